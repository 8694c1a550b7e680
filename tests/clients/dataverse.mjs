// The Dataverse Web API face, driven by dynamics-web-api (the widely used Dataverse client) as an
// integration would use it, against a dualwrite server with the demo data: lookups bound by
// alternate key, reads by id and by alternate key, updates under an etag, upserts, deletes, paged
// queries, and a $batch change set that fails as a whole. Writes reach finance and operations by
// live sync: the script checks them there through /api/v1.
//
// DUALWRITE_URL (http://host:port) and DUALWRITE_TOKEN name the server and an admin token.

import assert from "node:assert/strict";
import { DynamicsWebApi } from "dynamics-web-api";

const url = process.env.DUALWRITE_URL;
const token = process.env.DUALWRITE_TOKEN;
assert.ok(url && token, "set DUALWRITE_URL and DUALWRITE_TOKEN");

const api = new DynamicsWebApi({ serverUrl: url, dataApi: { version: "9.2" }, onTokenRefresh: async () => token });

/** The finance-and-operations rows of `table` that pass `filter`, through dualwrite's own API. */
async function finops(table, filter) {
  const query = new URLSearchParams({ filter });
  const answer = await fetch(`${url}/api/v1/envs/finops/tables/${table}/rows?${query}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(answer.status, 200, await answer.clone().text());
  return (await answer.json()).items;
}

const step = (name) => console.log(`- ${name}`);

step("read the companies and a customer group, by filter");
const companies = await api.retrieveMultiple({ collection: "cdm_companies", select: ["cdm_companycode"], orderBy: ["cdm_companycode"] });
const usmf = companies.value.find((c) => c.cdm_companycode === "USMF");
assert.ok(usmf, JSON.stringify(companies.value));
const groups = await api.retrieveMultiple({
  collection: "msdyn_customergroups",
  filter: `msdyn_groupid eq '10' and _msdyn_company_value eq ${usmf.cdm_companyid}`,
});
assert.equal(groups.value.length, 1, JSON.stringify(groups.value));

step("create an account with lookups bound by alternate key and by id");
const accountId = await api.create({
  collection: "accounts",
  data: {
    accountnumber: "WEB-001",
    description: "Created through the Web API",
    customertypecode: 3,
    "msdyn_company@odata.bind": "/cdm_companies(cdm_companycode='USMF')",
    "transactioncurrencyid@odata.bind": "/transactioncurrencies(isocurrencycode='USD')",
    "msdyn_customergroupid@odata.bind": `/msdyn_customergroups(${groups.value[0].msdyn_customergroupid})`,
    "msdyn_primarycontact@odata.bind": "/msdyn_contactforparties(msdyn_contactforpartynumber='CP-001')",
  },
});
assert.match(accountId, /^[0-9a-f-]{36}$/);
const [customer] = await finops("CustCustomerV3Entity", 'CUSTOMERACCOUNT == "WEB-001"');
assert.equal(customer?.dataAreaId, "USMF", "the customer was written on finance and operations");
assert.equal(customer.SALESCURRENCYCODE, "USD");
assert.equal(customer.CUSTOMERGROUPID, "10");

step("retrieve it by id and by its alternate key");
const byId = await api.retrieve({ collection: "accounts", key: accountId, select: ["accountnumber", "_transactioncurrencyid_value"] });
assert.equal(byId.accountnumber, "WEB-001");
const usd = await api.retrieve({ collection: "transactioncurrencies", key: "isocurrencycode='USD'" });
assert.equal(byId._transactioncurrencyid_value, usd.transactioncurrencyid);
const byKey = await api.retrieve({ collection: "accounts", key: `accountnumber='WEB-001',_msdyn_company_value=${usmf.cdm_companyid}` });
assert.equal(byKey.accountid, accountId);

step("update under the etag read, and see a stale etag refused");
const updated = await api.update({ collection: "accounts", key: accountId, data: { description: "Updated" }, ifmatch: byKey["@odata.etag"] });
assert.equal(updated, true);
assert.equal((await finops("CustCustomerV3Entity", 'CUSTOMERACCOUNT == "WEB-001"'))[0]?.dataAreaId, "USMF");
// The library answers a refused precondition (412) with false.
assert.equal(await api.update({ collection: "accounts", key: accountId, data: { description: "Lost" }, ifmatch: byKey["@odata.etag"] }), false);
assert.equal((await api.retrieve({ collection: "accounts", key: accountId, select: ["description"] })).description, "Updated");

step("upsert a currency twice: created, then updated");
await api.upsert({ collection: "transactioncurrencies", key: "isocurrencycode='NOK'", data: { currencyname: "Krone" } });
await api.upsert({ collection: "transactioncurrencies", key: "isocurrencycode='NOK'", data: { currencyname: "Norwegian krone" } });
assert.equal((await finops("Currencies", 'CURRENCYCODE == "NOK"'))[0]?.NAME, "Norwegian krone");

step("query page by page, following @odata.nextLink");
const pages = [];
let page = await api.retrieveMultiple({ collection: "transactioncurrencies", select: ["isocurrencycode"], orderBy: ["isocurrencycode"], maxPageSize: 2, count: true });
pages.push(page.value);
while (page.oDataNextLink) {
  page = await api.retrieveMultiple({ collection: "transactioncurrencies", maxPageSize: 2 }, page.oDataNextLink);
  pages.push(page.value);
}
const codes = pages.flat().map((c) => c.isocurrencycode);
assert.ok(pages.length > 1 && pages.every((p) => p.length <= 2), JSON.stringify(pages));
assert.deepEqual(codes, [...codes].sort());
const all = await api.retrieveAll({ collection: "transactioncurrencies", select: ["isocurrencycode"], maxPageSize: 2 });
assert.equal(all.value.length, codes.length);
assert.ok(codes.includes("NOK"));

step("a $batch change set whose second twin write fails writes nothing");
api.startBatch();
api.create({ collection: "transactioncurrencies", data: { isocurrencycode: "BBB", currencyname: "Written with its batch" } });
api.create({ collection: "transactioncurrencies", data: { isocurrencycode: "ABCD", currencyname: "Too long for finance and operations" } });
const results = await api.executeBatch();
assert.ok(results.some((r) => r instanceof Error || r?.status >= 400), JSON.stringify(results));
const bbb = await api.retrieveMultiple({ collection: "transactioncurrencies", filter: "isocurrencycode eq 'BBB'" });
assert.equal(bbb.value.length, 0, "nothing of the failed change set was written");

step("a $batch change set binding an account to the currency it creates");
api.startBatch();
api.create({ collection: "transactioncurrencies", data: { isocurrencycode: "CCC", currencyname: "Batch currency" }, contentId: "1" });
api.create({
  collection: "accounts",
  data: {
    accountnumber: "WEB-002",
    "transactioncurrencyid@odata.bind": "$1",
    "msdyn_company@odata.bind": "/cdm_companies(cdm_companycode='USMF')",
  },
});
const [currencyId, secondId] = await api.executeBatch();
const second = await api.retrieve({ collection: "accounts", key: secondId, select: ["_transactioncurrencyid_value"] });
assert.equal(second._transactioncurrencyid_value, currencyId);

step("delete, and see the delete reach finance and operations");
assert.equal(await api.deleteRecord({ collection: "transactioncurrencies", key: "isocurrencycode='NOK'" }), true);
assert.deepEqual(await finops("Currencies", 'CURRENCYCODE == "NOK"'), []);
assert.equal(await api.retrieve({ collection: "transactioncurrencies", key: "isocurrencycode='NOK'" }).catch((e) => e.status), 404);

console.log("dynamics-web-api: every step passed");
