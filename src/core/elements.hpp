#pragma once

#include <cstdint>
#include <string>

namespace atomfp {

// Atomic number of a chemical symbol ("Si" -> 14), or 0 if the symbol is not an element.
int32_t atomic_number(const std::string& symbol);

// Standard atomic weight in amu (u); 0 for numbers outside 1..118.
double atomic_mass(int32_t z);

// Chemical symbol of an atomic number; "Z<n>" for numbers outside 1..118.
std::string element_symbol(int32_t z);

}  // namespace atomfp
