// The finance-and-operations OData face, driven by @odata/client (a generic OData v4 client) against a
// dualwrite server with the demo data: reads with filters, options and paging, one company or every
// company, create, update and delete of customer groups, a $batch; and the cross-face story: a
// customer created on /data/CustomersV3 is read back as an account on the Dataverse Web API with its
// company and currency lookups.
//
// DUALWRITE_URL (http://host:port) and DUALWRITE_TOKEN name the server and an admin token.

import assert from "node:assert/strict";
import { OData } from "@odata/client";

const url = process.env.DUALWRITE_URL;
const token = process.env.DUALWRITE_TOKEN;
assert.ok(url && token, "set DUALWRITE_URL and DUALWRITE_TOKEN");

const client = OData.New4({ serviceEndpoint: `${url}/data/`, commonHeaders: { authorization: `Bearer ${token}` } });
const step = (name) => console.log(`- ${name}`);

/** The Dataverse rows the Web API face gives for `path`. */
async function webApi(path) {
  const answer = await fetch(`${url}/api/data/v9.2/${path}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(answer.status, 200, `${path}: ${await answer.clone().text()}`);
  return answer.json();
}

step("read customer groups of the default company, then of every company");
const groups = client.getEntitySet("CustomerGroups");
const usmf = await groups.query(client.newOptions().orderby("CUSTOMERGROUPID"));
assert.ok(usmf.length > 0 && usmf.every((g) => g.dataAreaId === "USMF"), JSON.stringify(usmf));
const every = await client.newRequest({ collection: "CustomerGroups", params: client.newOptions().custom("cross-company", "true") });
const companies = new Set(every.value.map((g) => g.dataAreaId));
assert.deepEqual([...companies].sort(), ["DEMF", "USMF"], JSON.stringify(every.value));

step("filter, select, order, count, top and skip");
const wholesale = await groups.query(client.newFilter().property("CUSTOMERGROUPID").eq("10"));
assert.equal(wholesale.length, 1);
assert.equal(await groups.count(), usmf.length);
const second = await groups.query(client.newOptions().orderby("CUSTOMERGROUPID").top(1).skip(1).select("CUSTOMERGROUPID"));
assert.deepEqual(second.map((g) => g.CUSTOMERGROUPID), [usmf[1].CUSTOMERGROUPID]);

step("create, read by key, update and delete a customer group; each reaches Dataverse");
const made = await groups.create({ CustomerGroupId: "77", Description: "Created through OData" });
assert.equal(made.dataAreaId, "USMF");
const key = { dataAreaId: "USMF", CUSTOMERGROUPID: "77" };
assert.equal((await groups.retrieve(key)).DESCRIPTION, "Created through OData");
const twin = async () => (await webApi("msdyn_customergroups?$filter=msdyn_groupid eq '77'")).value;
assert.equal((await twin())[0]?.msdyn_description, "Created through OData");
await groups.update(key, { Description: "Updated through OData" });
assert.equal((await twin())[0]?.msdyn_description, "Updated through OData");
await groups.delete(key);
assert.deepEqual(await twin(), []);

step("a $batch of creates, answered request by request");
const requests = await Promise.all([
  client.newBatchRequest({ collection: "Currencies", method: "POST", entity: { CurrencyCode: "QQQ", Name: "Q dollar" } }),
  client.newBatchRequest({ collection: "Currencies", method: "GET", params: client.newOptions().filter("CURRENCYCODE eq 'QQQ'") }),
]);
const answers = await Promise.all(await client.execBatchRequests(requests));
assert.deepEqual(answers.map((a) => a.status), [201, 200]);
assert.equal((await answers[1].json()).value[0]?.NAME, "Q dollar");

step("a customer created on /data/CustomersV3 is an account on the Web API, lookups and all");
const customers = client.getEntitySet("CustomersV3");
await customers.create({ CustomerAccount: "FO-001", PartyType: "Organization", CustomerGroupId: "10", SalesCurrencyCode: "EUR", ContactPersonId: "CP-001" });
const [account] = (await webApi("accounts?$filter=accountnumber eq 'FO-001'")).value;
const [company] = (await webApi("cdm_companies?$filter=cdm_companycode eq 'USMF'")).value;
const [euro] = (await webApi("transactioncurrencies?$filter=isocurrencycode eq 'EUR'")).value;
assert.equal(account?._msdyn_company_value, company.cdm_companyid);
assert.equal(account._transactioncurrencyid_value, euro.transactioncurrencyid);

console.log("@odata/client: every step passed");
