// Vitest stand-in for the "server-only" marker package (which throws outside React Server
// Components). The marker guards bundling; tests run on the server anyway.
export {};
