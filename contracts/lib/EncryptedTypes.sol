// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.24;

// Encrypted value types. Each is a 32-byte handle naming a ciphertext held by the FHE
// executor (see ARCHITECTURE.md for the handle layout). The names are the ones contracts
// written for @fhevm/solidity use, so their code compiles against this library unchanged.

type ebool is bytes32;
type euint8 is bytes32;
type euint16 is bytes32;
type euint32 is bytes32;
type euint64 is bytes32;
type euint128 is bytes32;
type eaddress is bytes32;
type euint256 is bytes32;

// Handles of encrypted inputs, as a user submits them with an input proof; a contract turns
// them into the types above with FHE.fromExternal.
type externalEbool is bytes32;
type externalEuint8 is bytes32;
type externalEuint16 is bytes32;
type externalEuint32 is bytes32;
type externalEuint64 is bytes32;
type externalEuint128 is bytes32;
type externalEaddress is bytes32;
type externalEuint256 is bytes32;
