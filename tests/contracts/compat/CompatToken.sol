// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

// An ERC-7984 confidential token built from OpenZeppelin's confidential contracts (0.5.3)
// and the npm package @fhevm/solidity: it must compile, unchanged, against that package
// and against our contracts/lib.
import {FHE, euint64} from "@fhevm/solidity/lib/FHE.sol";
import {ZamaEthereumConfig} from "@fhevm/solidity/config/ZamaConfig.sol";
import {ERC7984} from "@openzeppelin/confidential-contracts/token/ERC7984/ERC7984.sol";

contract CompatToken is ZamaEthereumConfig, ERC7984 {
    constructor(uint64 initialSupply) ERC7984("Compat Token", "CPT", "https://example.invalid/cpt") {
        _mint(msg.sender, FHE.asEuint64(initialSupply));
    }
}
