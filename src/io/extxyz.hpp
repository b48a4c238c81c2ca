// Extended XYZ as written by ASE: a count line, a comment line of key=value pairs (Lattice,
// Properties, pbc, energy, stress, virial, ...), then one line per atom.
#pragma once

#include "io/frame.hpp"

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace atomfp {

// Throws Error(io) if the file cannot be read and Error(format) naming the line for malformed content.
std::vector<Frame> read_extxyz(const std::string& path);
std::vector<Frame> parse_extxyz(std::istream& input, const std::string& source_name);

void write_extxyz(std::ostream& output, const Frame& frame);

}  // namespace atomfp
