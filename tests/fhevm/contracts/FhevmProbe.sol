// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.24;

interface IProbeAcl {
    function allow(bytes32 handle, address account) external;
}

/// @notice Test probe for the fhEVM precompiles (tests/fhevm only): it forwards calls so
///         that it is the msg.sender the executor and ACL check, keeps results, and can
///         revert after acting to exercise the journal.
contract FhevmProbe {
    address private constant EXECUTOR = 0xe3a9105a3a932253A70F126eb1E3b589C643dD24;
    address private constant ACL = 0x50157CFfD6bBFA2DECe204a89ec419c23ef5755D;

    bytes32 public last;
    event Result(bytes32 handle);

    /// Call `target` with `data`; bubble up a revert unchanged.
    function exec(address target, bytes memory data) public payable returns (bytes memory out) {
        bool ok;
        (ok, out) = target.call{value: msg.value}(data);
        if (!ok) {
            assembly {
                revert(add(out, 32), mload(out))
            }
        }
    }

    function execStatic(address target, bytes memory data) external view returns (bytes memory out) {
        bool ok;
        (ok, out) = target.staticcall(data);
        if (!ok) {
            assembly {
                revert(add(out, 32), mload(out))
            }
        }
    }

    function execDelegate(address target, bytes memory data) external returns (bytes memory out) {
        bool ok;
        (ok, out) = target.delegatecall(data);
        if (!ok) {
            assembly {
                revert(add(out, 32), mload(out))
            }
        }
    }

    /// Run an executor call and keep its result for this contract and the sender.
    function compute(bytes memory data) public returns (bytes32 r) {
        r = abi.decode(exec(EXECUTOR, data), (bytes32));
        IProbeAcl(ACL).allow(r, address(this));
        IProbeAcl(ACL).allow(r, tx.origin);
        last = r;
        emit Result(r);
    }

    /// Run an executor call, keep nothing, return the (transient) result.
    function computeTransient(bytes memory data) public returns (bytes32 r) {
        r = abi.decode(exec(EXECUTOR, data), (bytes32));
        last = r;
        emit Result(r);
    }

    function computeThenRevert(bytes memory data) public {
        compute(data);
        revert("probe: deliberate revert");
    }

    /// The inner frame computes and reverts; this outer frame succeeds.
    function tryComputeThenRevert(bytes memory data) external returns (bool ok) {
        try this.computeThenRevert(data) {
            ok = true;
        } catch {
            ok = false;
        }
    }

    /// r = op(r, r) n times: a dependency chain, for the HCU depth limit.
    function chain(bytes4 sel, bytes32 a, uint256 n) external returns (bytes32 r) {
        r = a;
        for (uint256 i = 0; i < n; i++) {
            r = abi.decode(exec(EXECUTOR, abi.encodeWithSelector(sel, r, r, bytes1(0x00))), (bytes32));
        }
        IProbeAcl(ACL).allow(r, address(this));
        last = r;
        emit Result(r);
    }

    /// The same independent call n times, for the HCU per-transaction limit.
    function repeat(bytes memory data, uint256 n) external {
        for (uint256 i = 0; i < n; i++) {
            exec(EXECUTOR, data);
        }
    }

    /// Use a result of this transaction again, relying on transient permission only.
    function computeTwice(bytes4 sel, bytes32 a, bytes32 b) external returns (bytes32 r) {
        bytes32 t = abi.decode(exec(EXECUTOR, abi.encodeWithSelector(sel, a, b, bytes1(0x00))), (bytes32));
        r = abi.decode(exec(EXECUTOR, abi.encodeWithSelector(sel, t, t, bytes1(0x00))), (bytes32));
        IProbeAcl(ACL).allow(r, address(this));
        last = r;
        emit Result(r);
    }

    /// Compute (a transient result), wipe transient permissions, then use the result.
    function computeCleanUse(bytes memory data, bytes4 sel) external returns (bytes32 r) {
        r = abi.decode(exec(EXECUTOR, data), (bytes32));
        exec(ACL, abi.encodeWithSignature("cleanTransientStorage()"));
        exec(EXECUTOR, abi.encodeWithSelector(sel, r, r, bytes1(0x00)));
    }

    /// Grant `who` transient use of `h` and report what the ACL then says.
    function grantTransientAndCheck(bytes32 h, address who) external returns (bool) {
        exec(ACL, abi.encodeWithSignature("allowTransient(bytes32,address)", h, who));
        bytes memory out = exec(ACL, abi.encodeWithSignature("isAllowed(bytes32,address)", h, who));
        return abi.decode(out, (bool));
    }
}
