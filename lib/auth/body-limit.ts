// The sign-in route's body cap (app/api/auth/[...nextauth]/route.ts). next-auth reads a form post
// whole (request.text()), on a route open to anyone; its forms (email, password, CSRF token,
// callback URL) are well under a kilobyte.
export const AUTH_MAX_BODY_BYTES = 16 * 1024;
