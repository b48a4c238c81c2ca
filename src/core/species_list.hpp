// The ordered species list of a descriptor specification and its inverse (atomic number ->
// position in the list), which fixes the descriptor's feature layout.
#pragma once

#include "core/json_spec.hpp"

#include <array>
#include <cstdint>
#include <vector>

namespace atomfp {

class SpeciesList {
public:
    SpeciesList() { index_.fill(-1); }

    // Reads the required key 'species': a non-empty list of distinct elements (atomic numbers or symbols).
    static SpeciesList read(SpecReader& reader);

    const std::vector<int32_t>& atomic_numbers() const { return atomic_numbers_; }
    int size() const { return static_cast<int>(atomic_numbers_.size()); }
    int32_t operator[](int i) const { return atomic_numbers_[i]; }
    bool contains(int32_t z) const { return z >= 0 && z < 119 && index_[z] >= 0; }
    // Position of atomic number z in the list; z must be contained.
    int index(int32_t z) const { return index_[z]; }

private:
    std::vector<int32_t> atomic_numbers_;
    std::array<int, 119> index_{};
};

}  // namespace atomfp
