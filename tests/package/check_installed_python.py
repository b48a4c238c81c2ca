"""Run with PYTHONPATH set to an install prefix's site directory and no ATOMFP_LIBRARY: the
installed package must find the installed library by itself."""
import ase
import atomfp

descriptor = atomfp.Descriptor({"type": "acsf", "species": [1, 8], "cutoff": 3.0})
water = ase.Atoms("OH2", positions=[[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]])
print("installed python package:", atomfp.__file__, atomfp.version(), descriptor.compute(water).shape)
