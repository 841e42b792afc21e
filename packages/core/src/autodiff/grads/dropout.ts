import { registerGrad } from "../grad-registry.js";

// Training-mode dropout is x · dropout_mask(x, step): the gradient flows through the `mul`; the mask is
// a constant draw (its value does not depend on x), so it passes nothing back.
registerGrad("dropout_mask", () => [null, null]);
