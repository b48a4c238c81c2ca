#include "io/npy.hpp"

#include "core/error.hpp"
#include "io/atomic_output.hpp"

#include <cstdio>
#include <cstring>

namespace atomfp {

namespace {
int64_t element_count(const std::vector<int64_t>& shape) {
    int64_t n = 1;
    for (int64_t s : shape) n *= s;
    return n;
}

bool little_endian() {
    const uint16_t probe = 1;
    unsigned char first;
    std::memcpy(&first, &probe, 1);
    return first == 1;
}
}  // namespace

void write_npy(const std::string& path, const std::vector<int64_t>& shape, const double* data) {
    std::string dims;
    for (int64_t s : shape) dims += std::to_string(s) + ", ";
    if (shape.size() > 1) dims.resize(dims.size() - 2);
    std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (" + dims + "), }";
    const std::size_t preamble = 10;  // magic (6) + version (2) + header length (2)
    header.append(64 - (preamble + header.size() + 1) % 64, ' ');
    header += '\n';

    AtomicOutput file(path);
    std::ostream& out = file.stream();
    out.write("\x93NUMPY\x01\x00", 8);
    const uint16_t length = static_cast<uint16_t>(header.size());
    const unsigned char length_bytes[2] = {static_cast<unsigned char>(length & 0xff), static_cast<unsigned char>(length >> 8)};
    out.write(reinterpret_cast<const char*>(length_bytes), 2);
    out << header;
    const int64_t n = element_count(shape);
    if (little_endian()) {
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(n * sizeof(double)));
    } else {
        for (int64_t i = 0; i < n; ++i) {
            unsigned char bytes[8];
            std::memcpy(bytes, data + i, 8);
            for (int b = 7; b >= 0; --b) out.put(static_cast<char>(bytes[b]));
        }
    }
    file.commit();
}

void write_csv(const std::string& path, const std::vector<int64_t>& shape, const double* data,
               const std::vector<std::string>& header) {
    AtomicOutput file(path, false);
    std::ostream& out = file.stream();
    const int64_t rows = shape.empty() ? 1 : shape[0];
    const int64_t columns = rows > 0 ? element_count(shape) / rows : 0;
    for (std::size_t c = 0; c < header.size(); ++c) out << (c ? "," : "") << '"' << header[c] << '"';
    if (!header.empty()) out << '\n';
    char number[32];
    for (int64_t r = 0; r < rows; ++r) {
        for (int64_t c = 0; c < columns; ++c) {
            std::snprintf(number, sizeof number, "%.17g", data[r * columns + c]);
            out << (c ? "," : "") << number;
        }
        out << '\n';
    }
    file.commit();
}

}  // namespace atomfp
