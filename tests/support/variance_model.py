"""A small Si model that carries a posterior covariance, fitted on the bundled Stillinger-Weber
sample (the shipped Si model predates variances: it stands for older files in the tests)."""
import pathlib

import ase.io

import atomfp

SAMPLE = pathlib.Path(__file__).resolve().parent.parent / "data" / "si_sw_sample.extxyz"
SOAP_SI = {"type": "soap_power_spectrum", "species": [14], "cutoff": 4.5, "cutoff_width": 0.5, "max_radial": 6,
           "max_angular": 4}


def fit_si_model_with_variance(path):
    """Fits (energies and forces of 8 x 64 atoms, 60 references), saves to `path`, returns the model."""
    trainer = atomfp.Trainer({"descriptor": SOAP_SI, "kernel": {"type": "polynomial", "zeta": 4},
                              "sparse_per_species": 60, "sigma_energy": 0.002, "sigma_forces": 0.05})
    for frame in ase.io.read(SAMPLE, index=":"):
        trainer.add(frame, energy=frame.get_potential_energy(), forces=frame.get_forces())
    model = trainer.train()
    model.save(str(path))
    return model
