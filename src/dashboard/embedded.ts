import { dashboardBundle } from "./bundle.ts" with { type: "macro" };

// Imported only inside the compiled executable (see assets.ts): there the macro ran when the
// executable was built, and these are string literals.
export const EMBEDDED_DASHBOARD = dashboardBundle();
