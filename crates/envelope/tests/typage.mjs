// The TypeScript age implementation (npm `age-encryption`, "typage"), as an
// independent oracle for sealtip's hybrid post-quantum and X25519 files.
// Run by tests/interop.rs with Node:
//
//   node typage.mjs MODULE keygen-hybrid | keygen-x25519   -> identity \n recipient
//   node typage.mjs MODULE encrypt RECIPIENT…  < plain    -> age file
//   node typage.mjs MODULE decrypt IDENTITY    < age file -> plain
//
// MODULE is the path of the installed package's entry file.
import { readFileSync, writeSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [modulePath, command, ...args] = process.argv.slice(2);
const age = await import(pathToFileURL(modulePath).href);

function write(bytes) {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(1, bytes, offset);
}

const input = () => new Uint8Array(readFileSync(0));

if (command === "keygen-hybrid" || command === "keygen-x25519") {
  const identity = command === "keygen-hybrid"
    ? await age.generateHybridIdentity()
    : await age.generateX25519Identity();
  write(new TextEncoder().encode(`${identity}\n${await age.identityToRecipient(identity)}\n`));
} else if (command === "encrypt") {
  const encrypter = new age.Encrypter();
  for (const recipient of args) encrypter.addRecipient(recipient);
  write(await encrypter.encrypt(input()));
} else if (command === "decrypt") {
  const decrypter = new age.Decrypter();
  decrypter.addIdentity(args[0]);
  write(await decrypter.decrypt(input()));
} else {
  console.error(`unknown command ${command}`);
  process.exit(2);
}
