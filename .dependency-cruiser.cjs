// Import direction, checked by `npm run check:imports` (and `npm test`): the layers of
// /work/shared/ARCHITECTURE.md §1 — app/ → lib/ → db/, components/ for the UI.
//   components/ never imports app/  (server actions live where components may import them)
//   db/ never imports lib/          (no business rules in the data layer; the seed is lib/demo/)
//   lib/ never imports app/ or components/
// plus no circular imports at runtime.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "components-not-to-app",
      comment: "components/ never imports app/: pass server actions as props or import them from lib/.",
      severity: "error",
      from: { path: "^components/" },
      to: { path: "^app/" },
    },
    {
      name: "db-not-to-lib",
      comment: "db/ (schema, migrations, client) never imports lib/: business rules stay out of the data layer.",
      severity: "error",
      from: { path: "^db/" },
      to: { path: "^lib/" },
    },
    {
      name: "lib-not-to-app-or-components",
      comment: "lib/ never imports app/ or components/: the domain does not know the UI or the routes.",
      severity: "error",
      from: { path: "^lib/" },
      to: { path: "^(app|components)/" },
    },
    {
      name: "no-circular",
      comment:
        "No runtime import cycles: split the shared part into a leaf module. Cycles made only of " +
        "`import type` are erased at compile time and allowed (lib/webhooks/handlers share their result type).",
      severity: "error",
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|\\.next|\\.next-preview|\\.data)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      extensions: [".ts", ".tsx", ".js", ".mjs", ".cjs", ".json"],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
