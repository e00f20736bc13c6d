// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.24;

// Type codes of encrypted values, as the executor ABI takes them (a uint8) and as byte 30
// of a handle carries them. The numbering is the protocol's: it continues past Uint256
// with types this engine does not implement, so only the codes below are declared.
enum FheType {
    Bool, // 0  ebool
    Uint4, // 1  (no Solidity type)
    Uint8, // 2  euint8
    Uint16, // 3  euint16
    Uint32, // 4  euint32
    Uint64, // 5  euint64
    Uint128, // 6  euint128
    Uint160, // 7  eaddress
    Uint256 // 8  euint256
}
