// The model file: one self-describing, versioned, checksummed binary file per model, portable
// across machines. Layout (every integer and real little-endian, whatever the host):
//
//   8 bytes   magic "ATOMFPM\0"
//   u32       format version (1, or 2 for a model with a core repulsion)
//   u32       reserved, 0
//   u64       length L of the header
//   L bytes   header: UTF-8 JSON {"format": "atomfp model", "version": 1, "created_by",
//             "descriptor": canonical spec, "kernel", "units": {"energy": "eV", "length": "Å"},
//             "n_features", "blocks": [{"species", "baseline", "n_references"}...], "metadata",
//             version 2: "repulsion"}
//   then per block in header order: n_references x n_features f64 references (row-major),
//             n_references f64 weights
//   u64       FNV-1a 64-bit hash of every preceding byte
//
// docs/model_file.md documents the format for readers in other languages.
#pragma once

#include "models/model.hpp"

#include <string>

namespace atomfp {

// The newest format this library reads and writes. Version 2 adds the header key "repulsion"; a
// model without one is written as version 1, so that older readers keep reading it.
constexpr uint32_t model_file_version = 3;
// The version of the file `model` is written as.
uint32_t model_file_version_of(const Model& model);
// More features than any descriptor a model may use (the descriptor specifications bound theirs).
constexpr int64_t max_model_features = int64_t(1) << 24;

// The JSON header the file of `model` has (everything but the references and weights), without
// "created_by": that names the library writing the file, which serialize_model adds.
json model_header(const Model& model);
std::string serialize_model(const Model& model);
// Throws Error(format) naming the problem for anything but a complete, intact file of a version
// this library reads: wrong magic, newer version, truncation, checksum mismatch, malformed header.
Model deserialize_model(const std::string& bytes, const std::string& source_name);

// Throw Error(io) when the file cannot be written or read.
void save_model(const Model& model, const std::string& path);
Model load_model(const std::string& path);

}  // namespace atomfp
