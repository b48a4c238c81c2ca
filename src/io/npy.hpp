// Writers for dense float64 arrays: NumPy's .npy (format 1.0, little-endian) and CSV.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace atomfp {

void write_npy(const std::string& path, const std::vector<int64_t>& shape, const double* data);
// Rows are the first axis; all remaining axes are flattened into columns.
void write_csv(const std::string& path, const std::vector<int64_t>& shape, const double* data,
               const std::vector<std::string>& header = {});

}  // namespace atomfp
