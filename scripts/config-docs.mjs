// `npm run docs`: rewrites the variable tables in docs/configuration.md from the services' config
// schemas (built: run after `npm run build`). The services' tests fail when the page is stale.
import fs from "node:fs";
import { envTable, withTable } from "@peercast/origin/service";
import { originEnvSchema } from "@peercast/origin/config";
import { trackerEnvSchema } from "@peercast/tracker/config";

const page = new URL("../docs/configuration.md", import.meta.url);
let text = fs.readFileSync(page, "utf8");
text = withTable(text, "origin", envTable(originEnvSchema));
text = withTable(text, "tracker", envTable(trackerEnvSchema));
fs.writeFileSync(page, text);
