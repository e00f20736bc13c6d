// ethers v6 against fhevm-node: deploy (to: null), call, send, read logs, see revert reasons.
// Usage: node ethers_smoke.mjs http://127.0.0.1:8545   (prints one JSON line, exit 0 on success)
// Greeter.sol next to this file, compiled with solc 0.8.30+commit.73712a01.Emscripten.clang (optimizer on, 200 runs).
import { ContractFactory, JsonRpcProvider, Wallet } from "ethers";

const GREETER = {
  abi: [{"inputs": [{"internalType": "string", "name": "g", "type": "string"}], "stateMutability": "nonpayable", "type": "constructor"}, {"anonymous": false, "inputs": [{"indexed": true, "internalType": "address", "name": "who", "type": "address"}, {"indexed": false, "internalType": "string", "name": "greeting", "type": "string"}], "name": "Greeted", "type": "event"}, {"inputs": [], "name": "fail", "outputs": [], "stateMutability": "pure", "type": "function"}, {"inputs": [{"internalType": "string", "name": "g", "type": "string"}], "name": "greet", "outputs": [], "stateMutability": "nonpayable", "type": "function"}, {"inputs": [], "name": "greeting", "outputs": [{"internalType": "string", "name": "", "type": "string"}], "stateMutability": "view", "type": "function"}],
  bytecode: "0x608060405234801561000f575f5ffd5b5060405161067f38038061067f83398101604081905261002e91610054565b5f6100398282610188565b5050610242565b634e487b7160e01b5f52604160045260245ffd5b5f60208284031215610064575f5ffd5b81516001600160401b03811115610079575f5ffd5b8201601f81018413610089575f5ffd5b80516001600160401b038111156100a2576100a2610040565b604051601f8201601f19908116603f011681016001600160401b03811182821017156100d0576100d0610040565b6040528181528282016020018610156100e7575f5ffd5b8160208401602083015e5f91810160200191909152949350505050565b600181811c9082168061011857607f821691505b60208210810361013657634e487b7160e01b5f52602260045260245ffd5b50919050565b601f82111561018357805f5260205f20601f840160051c810160208510156101615750805b601f840160051c820191505b81811015610180575f815560010161016d565b50505b505050565b81516001600160401b038111156101a1576101a1610040565b6101b5816101af8454610104565b8461013c565b6020601f8211600181146101e7575f83156101d05750848201515b5f19600385901b1c1916600184901b178455610180565b5f84815260208120601f198516915b8281101561021657878501518255602094850194600190920191016101f6565b508482101561023357868401515f19600387901b60f8161c191681555b50505050600190811b01905550565b6104308061024f5f395ff3fe608060405234801561000f575f5ffd5b506004361061003f575f3560e01c8063a9cc471814610043578063ead710c41461004d578063ef690cc014610060575b5f5ffd5b61004b61007e565b005b61004b61005b3660046101d7565b6100ba565b61006861014c565b6040516100759190610245565b60405180910390f35b60405162461bcd60e51b815260206004820152600c60248201526b616c77617973206661696c7360a01b60448201526064015b60405180910390fd5b806100f85760405162461bcd60e51b815260206004820152600e60248201526d656d707479206772656574696e6760901b60448201526064016100b1565b5f610104828483610312565b50336001600160a01b03167faf3454daf35ed35aeed96f54dea42be40577a50924c122b26dc07fb3bf0c077e83836040516101409291906103cc565b60405180910390a25050565b5f80546101589061028e565b80601f01602080910402602001604051908101604052809291908181526020018280546101849061028e565b80156101cf5780601f106101a6576101008083540402835291602001916101cf565b820191905f5260205f20905b8154815290600101906020018083116101b257829003601f168201915b505050505081565b5f5f602083850312156101e8575f5ffd5b823567ffffffffffffffff8111156101fe575f5ffd5b8301601f8101851361020e575f5ffd5b803567ffffffffffffffff811115610224575f5ffd5b856020828401011115610235575f5ffd5b6020919091019590945092505050565b602081525f82518060208401528060208501604085015e5f604082850101526040601f19601f83011684010191505092915050565b634e487b7160e01b5f52604160045260245ffd5b600181811c908216806102a257607f821691505b6020821081036102c057634e487b7160e01b5f52602260045260245ffd5b50919050565b601f82111561030d57805f5260205f20601f840160051c810160208510156102eb5750805b601f840160051c820191505b8181101561030a575f81556001016102f7565b50505b505050565b67ffffffffffffffff83111561032a5761032a61027a565b61033e83610338835461028e565b836102c6565b5f601f84116001811461036f575f85156103585750838201355b5f19600387901b1c1916600186901b17835561030a565b5f83815260208120601f198716915b8281101561039e578685013582556020948501946001909201910161037e565b50868210156103ba575f1960f88860031b161c19848701351681555b505060018560011b0183555050505050565b60208152816020820152818360408301375f818301604090810191909152601f909201601f1916010191905056fea2646970667358221220a2630484078bd355fe6d0ad758c6580c96e318de608371658e85b6559e0c14d464736f6c634300081e0033",
};
const DEV0_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

async function expectRevert(promise, reason, what) {
  try {
    await promise;
  } catch (err) {
    check(err.code === "CALL_EXCEPTION", `${what}: CALL_EXCEPTION, got ${err.code}`);
    check(err.reason === reason, `${what}: reason ${JSON.stringify(err.reason)}`);
    return;
  }
  throw new Error(`${what}: did not revert`);
}

const url = process.argv[2] ?? "http://127.0.0.1:8545";
// cacheTimeout -1: ethers otherwise reuses a 250 ms old "pending" nonce, too old for automine
const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true, cacheTimeout: -1 });
const wallet = new Wallet(DEV0_KEY, provider);

const net = await provider.getNetwork();
check(net.chainId === 31337n, "chain id 31337");

const factory = new ContractFactory(GREETER.abi, GREETER.bytecode, wallet);
const greeter = await factory.deploy("hello");
const deployTx = greeter.deploymentTransaction();
check(deployTx.to === null, "creation has to: null");
await greeter.waitForDeployment();
const address = await greeter.getAddress();
const deployReceipt = await deployTx.wait();
check(deployReceipt.contractAddress === address, "receipt contractAddress");
check((await provider.getCode(address)).length > 2, "code deployed");
check((await greeter.greeting()) === "hello", "constructor state");

const tx = await greeter.greet("hi there");
const receipt = await tx.wait();
check(receipt.status === 1, "greet succeeded");
const parsed = receipt.logs.map((l) => greeter.interface.parseLog(l));
check(parsed.length === 1 && parsed[0].name === "Greeted", "Greeted in receipt");
check(parsed[0].args.greeting === "hi there", "event argument");
check((await greeter.greeting()) === "hi there", "state after greet");

const events = await greeter.queryFilter(greeter.filters.Greeted(wallet.address), 0, "latest");
check(events.length === 1 && events[0].args.greeting === "hi there", "queryFilter / eth_getLogs");
const none = await greeter.queryFilter(greeter.filters.Greeted(address), 0, "latest");
check(none.length === 0, "topic filter excludes other senders");

await expectRevert(greeter.fail(), "always fails", "eth_call revert");
await expectRevert(greeter.greet(""), "empty greeting", "estimateGas revert");
await expectRevert(greeter.greet.staticCall(""), "empty greeting", "staticCall revert");

const balance = await provider.getBalance(wallet.address);
check(balance > 0n, "balance");
const block = await provider.getBlock("latest");
check(block.number === receipt.blockNumber, "latest block is the greet block");

console.log(JSON.stringify({ ok: true, address, block: block.number }));
