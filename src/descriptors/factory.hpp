#pragma once

#include "descriptors/descriptor.hpp"

#include <memory>
#include <string>

namespace atomfp {

// The descriptor a JSON specification names with its "type" key.
std::unique_ptr<Descriptor> create_descriptor(const std::string& json_text);
std::unique_ptr<Descriptor> create_descriptor_from_spec(const json& spec);

// Every descriptor type as [{"type", "summary", "parameters"}], "parameters" being the canonical
// specification of a silicon example: every key the type reads, with its default.
json descriptor_types();

}  // namespace atomfp
