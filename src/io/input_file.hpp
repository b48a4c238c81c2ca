// Opening files named by users or hosts: only regular files (a directory, a FIFO or /dev/zero
// would be read forever or fail obscurely) no larger than ATOMFP_MAX_INPUT_BYTES.
#pragma once

#include <fstream>
#include <string>

namespace atomfp {

// Throws Error(io) naming `what` and the path when the file cannot be opened, is not a regular
// file, or exceeds the input size limit (core/limits.hpp).
std::ifstream open_input_file(const std::string& path, const char* what, bool binary = false);

}  // namespace atomfp
