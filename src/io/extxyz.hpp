// Extended XYZ as written by ASE: a count line, a comment line of key=value pairs (Lattice,
// Properties, pbc, energy, stress, virial, ...), then one line per atom.
#pragma once

#include "core/mat3.hpp"

#include <array>
#include <cstdint>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace atomfp {

struct Frame {
    std::vector<int32_t> species;  // atomic numbers
    std::vector<double> positions;  // [n][3] Å
    std::optional<Mat3> cell;       // rows are lattice vectors
    std::array<bool, 3> pbc{false, false, false};
    std::optional<double> energy;  // eV
    std::vector<double> forces;    // [n][3] eV/Å, or empty
    std::optional<Mat3> stress;    // eV/Å^3, ASE sign convention
    std::optional<Mat3> virial;    // eV
    std::map<std::string, std::string> info;  // every other comment-line key, raw text

    int64_t size() const { return static_cast<int64_t>(species.size()); }
};

// Throws Error(io) if the file cannot be read and Error(format) naming the line for malformed content.
std::vector<Frame> read_extxyz(const std::string& path);
std::vector<Frame> parse_extxyz(std::istream& input, const std::string& source_name);

void write_extxyz(std::ostream& output, const Frame& frame);

}  // namespace atomfp
