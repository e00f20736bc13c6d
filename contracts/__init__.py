"""Solidity sources of the project and their compiled artifacts.

    from contracts import load_artifact
    load_artifact("FHETestEuint64")["abi"]

Sources: lib/ (the FHE library), config/ (protocol addresses of the devnet), test/
(conformance harnesses). `python -m contracts.codegen` regenerates the generated sources,
`python -m contracts.build` recompiles contracts/artifacts/.
"""

from .artifacts import ARTIFACTS_DIR, artifact_names, load_abi, load_artifact, load_bytecode

__all__ = ["ARTIFACTS_DIR", "artifact_names", "load_abi", "load_artifact", "load_bytecode"]
