"""ctypes declarations of the C API (include_c/atomfp.h) and the error translation."""
import ctypes
import ctypes.util
import os
import pathlib

c_double_p = ctypes.POINTER(ctypes.c_double)
c_int32_p = ctypes.POINTER(ctypes.c_int32)
c_int64_p = ctypes.POINTER(ctypes.c_int64)

OK = 0
JSON_ERROR = 2
BUFFER_TOO_SMALL = 3
STATUS_NAMES = {}  # code -> constant name, read from the loaded library below
SENSITIVITY_REMOVE_RIGID = 1
SENSITIVITY_SCALE_MAX = 2


class AtomfpError(RuntimeError):
    """A failed atomfp call: `status` is the C status code, `name` its constant name."""

    def __init__(self, status, message):
        self.status = status
        self.name = STATUS_NAMES.get(status, f"status {status}")
        super().__init__(f"{self.name}: {message}")


class CSystem(ctypes.Structure):
    _fields_ = [
        ("n_atoms", ctypes.c_int64), ("positions", c_double_p), ("species", c_int32_p), ("cell", c_double_p),
        ("n_centers", ctypes.c_int64), ("centers", c_int64_p), ("offsets", c_int64_p), ("neighbours", c_int64_p),
        ("cell_shifts", c_int32_p),
    ]


def _candidates():
    """Where the shared library may be, in order: $ATOMFP_LIBRARY; the copy bundled into the package
    by `pip install` (_lib/); the library of the prefix the package was installed into by
    `cmake --install` (recorded relative to the package); the loader's search path."""
    explicit = os.environ.get("ATOMFP_LIBRARY")
    if explicit:
        yield explicit
        return
    here = pathlib.Path(__file__).parent
    bundled = here / "_lib" / "libatomfp.so.0"
    if bundled.exists():
        yield str(bundled)
    try:
        from . import _install_location
        yield str((here / _install_location.LIBRARY).resolve())
    except ImportError:
        pass
    found = ctypes.util.find_library("atomfp")
    if found:
        yield found
    yield "libatomfp.so.0"


def _load():
    errors = []
    for candidate in _candidates():
        try:
            return ctypes.CDLL(candidate)
        except OSError as error:
            errors.append(str(error))
    raise ImportError("atomfp: cannot load libatomfp (set ATOMFP_LIBRARY to its path): " + "; ".join(errors))


lib = _load()

_P = ctypes.c_void_p
_I64 = ctypes.c_int64
_I32 = ctypes.c_int32
_D = ctypes.c_double
_SYS = ctypes.POINTER(CSystem)

_SIGNATURES = {
    "atomfp_version": [ctypes.POINTER(ctypes.c_int)] * 3,
    "atomfp_neighbours_build": [_I64, c_double_p, c_int32_p, c_double_p, c_int32_p, _D, ctypes.POINTER(_P)],
    "atomfp_neighbours_system": [_P, _SYS],
    "atomfp_frames_read": [ctypes.c_char_p, ctypes.POINTER(_P)],
    "atomfp_frames_count": [_P, c_int64_p],
    "atomfp_frames_get": [_P, _I64, c_int64_p, ctypes.POINTER(c_double_p), ctypes.POINTER(c_int32_p),
                          ctypes.POINTER(c_double_p), ctypes.POINTER(c_int32_p)],
    "atomfp_descriptor_create": [ctypes.c_char_p, ctypes.POINTER(_P)],
    "atomfp_descriptor_parameters": [_P, ctypes.c_char_p, _I64, c_int64_p],
    "atomfp_descriptor_feature_count": [_P, c_int64_p],
    "atomfp_descriptor_cutoff": [_P, c_double_p],
    "atomfp_descriptor_feature_label": [_P, _I64, ctypes.c_char_p, _I64, c_int64_p],
    "atomfp_descriptor_compute": [_P, _SYS, c_double_p, c_double_p],
    "atomfp_descriptor_contract": [_P, _SYS, c_double_p, c_double_p, c_double_p, c_double_p],
    "atomfp_sensitivity_size": [_P, _SYS, _I64, c_int64_p],
    "atomfp_sensitivity_matrix": [_P, _SYS, _I64, _I32, c_double_p],
    "atomfp_sensitivity_spectrum": [_P, _SYS, _I64, _I32, c_double_p, c_double_p],
    "atomfp_blind_spot_indices": [_P, _SYS, ctypes.c_double, c_double_p, c_int64_p],
    "atomfp_manifold_trace": [_P, _I64, ctypes.POINTER(_P), _SYS, _I64, ctypes.c_char_p, _I64, c_int64_p, c_int32_p,
                              c_double_p, c_double_p, c_double_p, c_double_p, c_double_p],
    "atomfp_feature_space_compare": [_I64, _I64, c_double_p, _I64, c_double_p, ctypes.c_char_p, c_double_p,
                                     c_double_p, c_double_p, c_double_p, c_int64_p],
    "atomfp_feature_select": [_I64, _I64, c_double_p, ctypes.c_char_p, _I64, c_int64_p, c_int64_p],
    "atomfp_descriptor_types": [ctypes.c_char_p, _I64, c_int64_p],
    "atomfp_model_load": [ctypes.c_char_p, ctypes.POINTER(_P)],
    "atomfp_model_save": [_P, ctypes.c_char_p],
    "atomfp_model_cutoff": [_P, c_double_p],
    "atomfp_model_species": [_P, c_int32_p, _I64, c_int64_p],
    "atomfp_model_header": [_P, ctypes.c_char_p, _I64, c_int64_p],
    "atomfp_model_predict": [_P, _SYS, c_double_p, c_double_p, c_double_p, c_double_p],
    "atomfp_model_predict_variance": [_P, _SYS, c_double_p, c_double_p],
    "atomfp_model_variance_gradient": [_P, _SYS, c_double_p, c_double_p, c_double_p],
    "atomfp_model_extrapolation": [_P, _SYS, c_int64_p, c_double_p],
    "atomfp_trainer_create": [ctypes.c_char_p, ctypes.POINTER(_P)],
    "atomfp_trainer_add_structure": [_P, _I64, c_double_p, c_int32_p, c_double_p, c_int32_p, c_double_p,
                                     c_double_p, c_double_p],
    "atomfp_trainer_set_structure_keys": [_P, _I64, ctypes.c_char_p],
    "atomfp_trainer_size": [_P, c_int64_p],
    "atomfp_trainer_train": [_P, ctypes.POINTER(_P)],
    "atomfp_trainer_summary": [_P, ctypes.c_char_p, _I64, c_int64_p],
}
for _name, _args in _SIGNATURES.items():
    _function = getattr(lib, _name)
    _function.argtypes = _args
    _function.restype = ctypes.c_int32
for _name in ("atomfp_frames_free", "atomfp_neighbours_free", "atomfp_descriptor_free", "atomfp_model_free", "atomfp_trainer_free"):
    getattr(lib, _name).argtypes = [_P]
    getattr(lib, _name).restype = None
for _name in ("atomfp_last_error", "atomfp_version_string", "atomfp_simd_kernels"):
    getattr(lib, _name).argtypes = []
    getattr(lib, _name).restype = ctypes.c_char_p
lib.atomfp_status_name.argtypes = [ctypes.c_int32]
lib.atomfp_status_name.restype = ctypes.c_char_p

# The library names its own status codes (all below 256), so the package cannot drift from it; the
# codes the package branches on must mean what it assumes.
for _code in range(256):
    _status_name = lib.atomfp_status_name(_code).decode()
    if _status_name != "ATOMFP_UNKNOWN_STATUS":
        STATUS_NAMES[_code] = _status_name
if (STATUS_NAMES.get(OK) != "ATOMFP_OK" or STATUS_NAMES.get(BUFFER_TOO_SMALL) != "ATOMFP_ERROR_BUFFER_TOO_SMALL"
        or STATUS_NAMES.get(JSON_ERROR) != "ATOMFP_ERROR_JSON"):
    raise ImportError(f"the atomfp library at {lib._name} numbers its status codes differently from this package")


def last_error():
    return lib.atomfp_last_error().decode()


def check(status):
    """Raises AtomfpError for a failed call."""
    if status != OK:
        raise AtomfpError(status, last_error())


def query_string(function, *leading):
    """Calls a string-returning C function twice: for the length, then for the text."""
    required = ctypes.c_int64(0)
    status = function(*leading, None, 0, ctypes.byref(required))
    if status != BUFFER_TOO_SMALL:
        check(status)
    buffer = ctypes.create_string_buffer(required.value)
    check(function(*leading, buffer, required.value, ctypes.byref(required)))
    return buffer.value.decode()


def pointer(array, c_type):
    """A C pointer into a NumPy array (None stays NULL)."""
    if array is None:
        return None
    return array.ctypes.data_as(ctypes.POINTER(c_type))
