// Grow-only scratch buffers: after the largest environment has been seen, a loop over centres
// allocates nothing.
#pragma once

#include <cstddef>
#include <vector>

namespace atomfp {

// buffer.data() with room for at least n values; existing contents are not preserved.
inline double* sized(std::vector<double>& buffer, std::size_t n) {
    if (buffer.size() < n) buffer.resize(n);
    return buffer.data();
}

}  // namespace atomfp
