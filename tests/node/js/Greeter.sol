// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

contract Greeter {
    event Greeted(address indexed who, string greeting);

    string public greeting;

    constructor(string memory g) {
        greeting = g;
    }

    function greet(string calldata g) external {
        require(bytes(g).length > 0, "empty greeting");
        greeting = g;
        emit Greeted(msg.sender, g);
    }

    function fail() external pure {
        revert("always fails");
    }
}
