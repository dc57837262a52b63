// The demo API key of the seeded Bluebird organisation (dev and preview data only, like the demo
// passwords: the seed inserts its hash, `npm run dev` prints it). Never used outside demo data:
// a production server refuses it (lib/api-keys/service.ts) and `npm start` refuses a database
// where it is not revoked (scripts/demo-accounts.ts).
export const DEMO_API_KEY = "cl_test_bluebirdDemoKeyForLocalDevelopmentOnly00000";
