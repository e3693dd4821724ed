"""Private implementation of haliax. Modules import their siblings directly, never ``haliax``.

Dependency order (a module imports only modules above it):

    errors
    axis
    named_array   (binds broadcast, reductions, ufuncs at its end)
    broadcast
    lift
    ufuncs, reductions
    everything else
"""

# Load NamedArray before anything else, so that whichever module is imported first the cycle
# named_array -> (broadcast, ufuncs, reductions) -> named_array resolves from the class's side.
from . import named_array as _named_array
