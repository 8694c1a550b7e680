// Both faces' $metadata read by odata-csdl (the OASIS OData TC's CSDL XML to CSDL JSON converter) in
// strict mode, which throws on anything CSDL does not allow; the converted documents must declare
// every entity set the service documents list, each with an entity type that has a key.
//
// DUALWRITE_URL (http://host:port) and DUALWRITE_TOKEN name the server and a token that may read.

import assert from "node:assert/strict";
import csdl from "odata-csdl";

const url = process.env.DUALWRITE_URL;
const token = process.env.DUALWRITE_TOKEN;
assert.ok(url && token, "set DUALWRITE_URL and DUALWRITE_TOKEN");

async function get(path) {
  const answer = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(answer.status, 200, `${path}: ${await answer.clone().text()}`);
  return answer;
}

for (const [root, namespace] of [
  ["/api/data/v9.2", "Microsoft.Dynamics.CRM"],
  ["/data", "Microsoft.Dynamics.DataEntities"],
]) {
  const xml = await (await get(`${root}/$metadata`)).text();
  const messages = [];
  const json = csdl.xml2json(xml, { strict: true, messages });
  assert.deepEqual(messages, [], `${root}/$metadata: ${JSON.stringify(messages)}`);
  const schema = json[namespace];
  assert.ok(schema, `${root}/$metadata declares ${namespace}`);
  const container = json.$EntityContainer.split(".").pop();
  const sets = Object.entries(schema[container]).filter(([, v]) => v.$Collection);
  const service = await (await get(`${root}/`)).json();
  assert.deepEqual(sets.map(([name]) => name).sort(), service.value.map((s) => s.name).sort(), `${root}: entity sets`);
  for (const [name, set] of sets) {
    const type = schema[set.$Type.split(".").pop()];
    assert.ok(type?.$Kind === "EntityType" && type.$Key?.length > 0, `${root}: ${name} has a keyed entity type`);
  }
  console.log(`- ${root}/$metadata: ${sets.length} entity sets, valid CSDL`);
}
console.log("odata-csdl: every step passed");
