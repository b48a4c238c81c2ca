"""An ASE calculator backed by an atomfp kernel model: energy, per-atom energies, forces, stress,
and on request the model's uncertainty signals."""
import numpy as np
from ase.calculators.calculator import Calculator, all_changes

from . import Model, blind_spot_indices


class AtomfpCalculator(Calculator):
    """AtomfpCalculator("si.afp") or AtomfpCalculator(model=atomfp.Model.load(...)).

    The stress (periodic cells only) is ASE's: (1/V) dE/d(strain) = -virial / V, in Voigt order
    xx, yy, zz, yz, xz, xy, eV/Å^3.

    uncertainty=True adds the posterior variances (eV²) "energies_variance" (per atom) and
    "energy_variance" (of the total energy), and the extrapolation flags "extrapolation" (per atom,
    the number of features outside their training range) and "extrapolation_excess" (the largest
    excess in units of the range's width); blind_spots=True adds "blind_spot_index" (per atom, the
    smallest non-rigid sensitivity eigenvalue over the largest) and "blind_spot_count" (the
    eigenvalues below blind_spot_threshold). A model without a posterior covariance or training
    ranges (older files, kernel ridge regression) raises AtomfpError ATOMFP_ERROR_NOT_AVAILABLE.
    docs/models.md says how to read each signal."""

    implemented_properties = ["energy", "free_energy", "energies", "forces", "stress"]
    uncertainty_properties = ["energies_variance", "energy_variance", "extrapolation", "extrapolation_excess"]
    blind_spot_properties = ["blind_spot_index", "blind_spot_count"]

    def __init__(self, model_path=None, model=None, uncertainty=False, blind_spots=False, blind_spot_threshold=1e-6,
                 **kwargs):
        super().__init__(**kwargs)
        if (model_path is None) == (model is None):
            raise ValueError("AtomfpCalculator needs exactly one of model_path and model")
        self.model = model if model is not None else Model.load(model_path)
        self.uncertainty = uncertainty
        self.blind_spot_threshold = blind_spot_threshold
        self.blind_spot_descriptor = self.model.descriptor if blind_spots else None
        self.implemented_properties = list(AtomfpCalculator.implemented_properties)
        if uncertainty:
            self.implemented_properties += self.uncertainty_properties
        if blind_spots:
            self.implemented_properties += self.blind_spot_properties

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        result = self.model.predict(self.atoms)
        self.results["energy"] = result["energy"]
        self.results["free_energy"] = result["energy"]
        self.results["energies"] = result["energies"]
        self.results["forces"] = result["forces"]
        if "stress" in result:
            s = result["stress"]
            self.results["stress"] = np.array([s[0, 0], s[1, 1], s[2, 2], s[1, 2], s[0, 2], s[0, 1]])
        elif "stress" in properties:
            raise ValueError("AtomfpCalculator: the stress needs a cell that is periodic in all three directions")
        if self.uncertainty:
            variance = self.model.predict_variance(self.atoms)
            self.results["energies_variance"] = variance["variances"]
            self.results["energy_variance"] = variance["energy_variance"]
            outside, excess = self.model.extrapolation(self.atoms)
            self.results["extrapolation"] = outside
            self.results["extrapolation_excess"] = excess
        if self.blind_spot_descriptor is not None:
            index, below = blind_spot_indices(self.blind_spot_descriptor, self.atoms, self.blind_spot_threshold)
            self.results["blind_spot_index"] = index
            self.results["blind_spot_count"] = below
