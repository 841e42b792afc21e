// Registers every op exporter (one file per op family). Importing this module is enough.
// (helper A adds: elementwise, linalg, layout, reduce, softmax, attention, sequence)
// (helper B adds: recurrent, scan, image)
export {};
