// The demo API key of the seeded Bluebird organisation (dev and preview data only, like the demo
// passwords: the seed inserts its hash, `npm run dev` prints it). Never used outside demo data.
export const DEMO_API_KEY = "cl_test_bluebirdDemoKeyForLocalDevelopmentOnly00000";
