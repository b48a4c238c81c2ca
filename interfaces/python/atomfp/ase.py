"""An ASE calculator backed by an atomfp kernel model: energy, per-atom energies, forces, stress."""
import numpy as np
from ase.calculators.calculator import Calculator, all_changes

from . import Model


class AtomfpCalculator(Calculator):
    """AtomfpCalculator("si.afp") or AtomfpCalculator(model=atomfp.Model.load(...)).

    The stress (periodic cells only) is ASE's: (1/V) dE/d(strain) = -virial / V, in Voigt order
    xx, yy, zz, yz, xz, xy, eV/Å^3."""

    implemented_properties = ["energy", "free_energy", "energies", "forces", "stress"]

    def __init__(self, model_path=None, model=None, **kwargs):
        super().__init__(**kwargs)
        if (model_path is None) == (model is None):
            raise ValueError("AtomfpCalculator needs exactly one of model_path and model")
        self.model = model if model is not None else Model.load(model_path)

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
