// Package ipdb maps IP addresses to their autonomous system (number and
// name) and country, from the CSV range databases of the npm packages
// @ip-location-db/asn (RouteViews and DB-IP ASN Lite, CC BY 4.0) and
// @ip-location-db/asn-country (CC0).
//
// The packages are pinned by version and npm integrity (sha512) and
// fetched into a cache outside git (EnsureDatabases), as internal/chdb does
// for the ClickHouse engine; Load reads them into sorted range tables
// bounded in size, and Reloader swaps in a new copy when the files change,
// so that lookups never wait for a reload.
package ipdb
