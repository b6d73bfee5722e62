// ESLint for Waypoint's own JavaScript in static/ (`make lint`). Third-party front-end files
// (Leaflet) come from a PyPI package and are served under /static/vendor/: they are never in the
// repository, and the copies `collectstatic` makes in staticfiles/ are not linted.
import js from "@eslint/js";
import globals from "globals";

// Browser globals whose names read like ordinary variables: a forgotten declaration of `status`
// or `name` would silently use the window's. Through `window.` they stay allowed.
const CONFUSABLE_GLOBALS = [
  "close", "closed", "event", "find", "history", "length", "location", "name", "open", "opener",
  "origin", "parent", "print", "self", "status", "stop", "top",
].map((name) => ({ name, message: `Use window.${name} if the browser's global is meant.` }));

export default [
  { ignores: ["staticfiles/", ".venv/", "var/", "build/", "test-results/"] },
  js.configs.recommended,
  {
    files: ["static/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      // The pages load each file as <script type="module">.
      sourceType: "module",
      globals: {
        ...globals.browser,
        // leaflet.js is a classic script each map page loads before its module (templates/*/*.html).
        L: "readonly",
      },
    },
    rules: {
      eqeqeq: ["error", "smart"],
      "no-restricted-globals": ["error", ...CONFUSABLE_GLOBALS],
      "no-var": "error",
      "prefer-const": "error",
    },
  },
];
