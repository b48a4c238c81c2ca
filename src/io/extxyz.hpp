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
// The labels are read from the keys `labels` names (with the default keys a per-atom "force"
// column is accepted for "forces"); every other key and column is kept in info and extra_columns.
std::vector<Frame> read_extxyz(const std::string& path, const LabelKeys& labels = {});
std::vector<Frame> parse_extxyz(std::istream& input, const std::string& source_name, const LabelKeys& labels = {});

// Writes the labels under the keys `labels` names, then info and extra_columns as they were read.
void write_extxyz(std::ostream& output, const Frame& frame, const LabelKeys& labels = {});

}  // namespace atomfp
