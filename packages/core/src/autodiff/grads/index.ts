// Registers every op's gradient (one file per op family). Importing this module is enough.
import "./loss.js";
