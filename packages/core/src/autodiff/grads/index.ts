// Registers every op's gradient (one file per op family). Importing this module is enough.
import "./elementwise.js";
import "./binary.js";
import "./linalg.js";
import "./layout.js";
import "./reduce.js";
import "./softmax.js";
import "./layer-norm.js";
import "./attention.js";
import "./recurrent.js";
import "./scan.js";
import "./image.js";
import "./sequence.js";
import "./loss.js";
import "./dropout.js";
