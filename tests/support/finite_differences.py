"""Central finite differences with respect to atom positions and homogeneous strain, for the Python
test scripts."""
import numpy as np


def strained(atoms, strain):
    """A copy of `atoms` with positions and cell taken to (1 + strain) x."""
    moved = atoms.copy()
    moved.set_cell(atoms.cell.array @ (np.eye(3) + strain).T, scale_atoms=True)
    return moved


def strain_derivative(function, atoms, h=1e-6):
    """d function / d strain_ab, shape (3, 3) + the shape of function's value."""
    columns = {}
    for a in range(3):
        for b in range(3):
            step = np.zeros((3, 3))
            step[a, b] = h
            columns[a, b] = (np.asarray(function(strained(atoms, step))) -
                             np.asarray(function(strained(atoms, -step)))) / (2 * h)
    first = columns[0, 0]
    result = np.zeros((3, 3) + first.shape)
    for (a, b), value in columns.items():
        result[a, b] = value
    return result


def position_derivative(function, atoms, h=1e-5):
    """d function / d x_ik, shape (n_atoms, 3) + the shape of function's value."""
    result = None
    for i in range(len(atoms)):
        for k in range(3):
            values = []
            for sign in (1, -1):
                moved = atoms.copy()
                moved.positions[i, k] += sign * h
                values.append(np.asarray(function(moved)))
            if result is None:
                result = np.zeros((len(atoms), 3) + values[0].shape)
            result[i, k] = (values[0] - values[1]) / (2 * h)
    return result
