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

namespace {

// Every descriptor type: its name, what it is, a small specification that shows its keys (the
// canonical form fills in the rest), and its constructor.
struct DescriptorType {
    const char* name;
    const char* summary;
    const char* example;
    std::unique_ptr<Descriptor> (*make)(const json& spec);
};

template <class T>
std::unique_ptr<Descriptor> make(const json& spec) {
    return std::make_unique<T>(spec);
}

const DescriptorType descriptor_types_table[] = {
    {"acsf", "Behler-Parrinello atom-centred symmetry functions G2, G3 and G9", R"({"type": "acsf", "species": [14]})",
     make<Acsf>},
    {"chebyshev", "Chebyshev radial and angular distribution functions (Artrith, Urban & Ceder 2017)",
     R"({"type": "chebyshev", "species": [14]})", make<ChebyshevDescriptor>},
    {"omfp", "overlap-matrix fingerprint: sorted eigenvalues of Gaussian orbital overlaps (Zhu et al. 2016)",
     R"({"type": "omfp", "species": [14]})", make<OverlapMatrixFingerprint>},
    {"spherical_expansion", "SOAP density expansion coefficients c_nlm (rotationally covariant)",
     R"({"type": "spherical_expansion", "species": [14]})", make<SphericalExpansionDescriptor>},
    {"soap_radial_spectrum", "SOAP radial (two-body) spectrum", R"({"type": "soap_radial_spectrum", "species": [14]})",
     make<SoapRadialSpectrum>},
    {"soap_power_spectrum", "SOAP power spectrum (three-body)", R"({"type": "soap_power_spectrum", "species": [14]})",
     make<SoapPowerSpectrum>},
    {"soap_bispectrum", "SOAP bispectrum (four-body)", R"({"type": "soap_bispectrum", "species": [14]})",
     make<SoapBispectrum>},
    {"feature_subset", "selected features of another descriptor",
     R"({"type": "feature_subset", "descriptor": {"type": "acsf", "species": [14]}, "features": [0, 1]})",
     make<FeatureSubset>},
};

}  // namespace

std::unique_ptr<Descriptor> create_descriptor_from_spec(const json& spec) {
    if (!spec.is_object()) fail(Status::json_error, "the specification must be a JSON object, got ", spec.type_name());
    auto type = spec.find("type");
    if (type == spec.end()) fail(Status::json_error, "missing required key 'type'");
    if (!type->is_string()) fail(Status::json_error, "key 'type' must be a string, got ", type->type_name());
    const std::string name = type->get<std::string>();
    std::string known;
    for (const DescriptorType& t : descriptor_types_table) {
        if (name == t.name) return t.make(spec);
        known += std::string(known.empty() ? "" : ", ") + "\"" + t.name + "\"";
    }
    fail(Status::json_error, "key 'type' = \"", name, "\" is not a known descriptor (known: ", known, ")");
}

json descriptor_types() {
    json out = json::array();
    for (const DescriptorType& t : descriptor_types_table) {
        out.push_back({{"type", t.name}, {"summary", t.summary}, {"parameters", t.make(parse_json(t.example))->parameters()}});
    }
    return out;
}

}  // namespace atomfp
