// A real did:plc directory (npm @did-plc/server 0.0.1) with an in-memory database, on 127.0.0.1:PLC_PORT.
const { PlcServer, Database } = require('@did-plc/server');
(async () => {
  const port = parseInt(process.env.PLC_PORT, 10);
  const plc = PlcServer.create({ db: Database.mock(), port });
  await plc.start();
  console.log(`PLC listening on 127.0.0.1:${port}`);
  const stop = async () => { await plc.destroy(); process.exit(0); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
})().catch((e) => { console.error(e); process.exit(1); });
