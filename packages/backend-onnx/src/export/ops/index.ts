// Registers every op exporter (one file per op family). Importing this module is enough.
import "./elementwise.js";
import "./linalg.js";
import "./layout.js";
import "./reduce.js";
import "./softmax.js";
import "./attention.js";
import "./sequence.js";
import "./recurrent.js";
import "./scan.js";
import "./image.js";
export {};
