// The reference PDS (npm @atproto/pds 0.4.217, the last release for Node 20), configured from the environment
// the test sets (PDS_PORT, PDS_DATA_DIRECTORY, PDS_DID_PLC_URL…), as the official service/index.js does.
const { PDS, envToCfg, envToSecrets, readEnv } = require('@atproto/pds');
(async () => {
  const env = readEnv();
  env.version ||= '0.4.217';
  const pds = await PDS.create(envToCfg(env), envToSecrets(env));
  await pds.start();
  console.log(`PDS listening on 127.0.0.1:${env.port}`);
  const stop = async () => { await pds.destroy(); process.exit(0); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
})().catch((e) => { console.error(e); process.exit(1); });
