export type PackOption = { id: string; name: string; credits: number; amount: number; currency: string };

export type Quote = {
  packId: string;
  credits: number;
  subtotal: number;
  discount: number;
  total: number;
  currency: string;
  couponCode: string | null;
  couponDescription: string | null;
};

export type Checkout = { purchaseId: string; clientSecret: string; amount: number; currency: string; credits: number };
