// Proofs made by panva's `dpop` package (an independent RFC 9449 implementation), for the authorizer's
// tests to verify. Reads {"requests": [{"htm", "htu", "accessToken"}...]} as JSON argv[2]; prints
// {"thumbprint": <its RFC 7638 thumbprint, by the package>, "proofs": [...]}, each for one request, all
// with one key pair of the algorithm asked for (argv[3], default ES256).
import { calculateThumbprint, generateKeyPair, generateProof } from 'dpop'

const { requests } = JSON.parse(process.argv[2])
const alg = process.argv[3] ?? 'ES256'
const keypair = await generateKeyPair(alg)
const proofs = []
for (const request of requests) {
  proofs.push(await generateProof(keypair, request.htu, request.htm, undefined, request.accessToken))
}
const thumbprint = await calculateThumbprint(keypair.publicKey)
process.stdout.write(JSON.stringify({ thumbprint, proofs }))
