#include "descriptors/factory.hpp"

#include "core/error.hpp"
#include "descriptors/acsf.hpp"
#include "descriptors/chebyshev.hpp"
#include "descriptors/feature_subset.hpp"
#include "descriptors/omfp.hpp"
#include "descriptors/soap.hpp"

namespace atomfp {

std::unique_ptr<Descriptor> create_descriptor(const std::string& json_text) {
    return create_descriptor_from_spec(parse_json(json_text));
}

std::unique_ptr<Descriptor> create_descriptor_from_spec(const json& spec) {
    if (!spec.is_object()) fail(Status::json_error, "the specification must be a JSON object, got ", spec.type_name());
    auto type = spec.find("type");
    if (type == spec.end()) fail(Status::json_error, "missing required key 'type'");
    if (!type->is_string()) fail(Status::json_error, "key 'type' must be a string, got ", type->type_name());
    const std::string name = type->get<std::string>();
    if (name == "acsf") return std::make_unique<Acsf>(spec);
    if (name == "chebyshev") return std::make_unique<ChebyshevDescriptor>(spec);
    if (name == "omfp") return std::make_unique<OverlapMatrixFingerprint>(spec);
    if (name == "spherical_expansion") return std::make_unique<SphericalExpansionDescriptor>(spec);
    if (name == "soap_radial_spectrum") return std::make_unique<SoapRadialSpectrum>(spec);
    if (name == "soap_power_spectrum") return std::make_unique<SoapPowerSpectrum>(spec);
    if (name == "soap_bispectrum") return std::make_unique<SoapBispectrum>(spec);
    if (name == "feature_subset") return std::make_unique<FeatureSubset>(spec);
    fail(Status::json_error, "key 'type' = \"", name,
         "\" is not a known descriptor (known: \"acsf\", \"chebyshev\", \"omfp\", \"spherical_expansion\", \"soap_radial_spectrum\", "
         "\"soap_power_spectrum\", \"soap_bispectrum\", \"feature_subset\")");
}

}  // namespace atomfp
