export * from "./enums";
export * from "./organizations";
export * from "./ledger";
export * from "./packs";
export * from "./purchases";
export * from "./coupons";
export * from "./campaigns";
export * from "./stripe";
