/**
 * The time zone of each country that keeps ONE local time everywhere (ISO 3166 code → IANA zone).
 * Used for recipient-local send windows: a phone number tells its country, not its town, so only these
 * countries can be placed; a country with several local times (US, CA, MX, BR, RU, AU, ID, KZ, MN, CL,
 * EC, ES, PT, CD, NZ, PG, KI, FM, ...) is absent, and its recipients use the campaign's zone.
 * Bundled rather than read from the runtime's ICU so the rule is the same on every Node version.
 * Checked against the IANA tz database (zone1970.tab / zone.tab) in 2026.
 */
export const SINGLE_ZONE_COUNTRIES: Readonly<Record<string, string>> = {
  // Europe
  AD: "Europe/Andorra", AL: "Europe/Tirane", AT: "Europe/Vienna", BA: "Europe/Sarajevo",
  BE: "Europe/Brussels", BG: "Europe/Sofia", BY: "Europe/Minsk", CH: "Europe/Zurich",
  CY: "Asia/Nicosia", CZ: "Europe/Prague", DE: "Europe/Berlin", DK: "Europe/Copenhagen",
  EE: "Europe/Tallinn", FI: "Europe/Helsinki", FR: "Europe/Paris", GB: "Europe/London",
  GR: "Europe/Athens", HR: "Europe/Zagreb", HU: "Europe/Budapest", IE: "Europe/Dublin",
  IS: "Atlantic/Reykjavik", IT: "Europe/Rome", LI: "Europe/Vaduz", LT: "Europe/Vilnius",
  LU: "Europe/Luxembourg", LV: "Europe/Riga", MC: "Europe/Monaco", MD: "Europe/Chisinau",
  ME: "Europe/Podgorica", MK: "Europe/Skopje", MT: "Europe/Malta", NL: "Europe/Amsterdam",
  NO: "Europe/Oslo", PL: "Europe/Warsaw", RO: "Europe/Bucharest", RS: "Europe/Belgrade",
  SE: "Europe/Stockholm", SI: "Europe/Ljubljana", SK: "Europe/Bratislava", SM: "Europe/San_Marino",
  TR: "Europe/Istanbul", UA: "Europe/Kyiv", VA: "Europe/Vatican", XK: "Europe/Belgrade",
  // Middle East, Asia
  AE: "Asia/Dubai", AF: "Asia/Kabul", AM: "Asia/Yerevan", AZ: "Asia/Baku", BD: "Asia/Dhaka",
  BH: "Asia/Bahrain", BN: "Asia/Brunei", BT: "Asia/Thimphu", CN: "Asia/Shanghai", GE: "Asia/Tbilisi",
  HK: "Asia/Hong_Kong", IL: "Asia/Jerusalem", IN: "Asia/Kolkata", IQ: "Asia/Baghdad", IR: "Asia/Tehran",
  JO: "Asia/Amman", JP: "Asia/Tokyo", KG: "Asia/Bishkek", KH: "Asia/Phnom_Penh", KR: "Asia/Seoul",
  KW: "Asia/Kuwait", LA: "Asia/Vientiane", LB: "Asia/Beirut", LK: "Asia/Colombo", MM: "Asia/Yangon",
  MO: "Asia/Macau", MV: "Indian/Maldives", MY: "Asia/Kuala_Lumpur", NP: "Asia/Kathmandu",
  OM: "Asia/Muscat", PH: "Asia/Manila", PK: "Asia/Karachi", PS: "Asia/Gaza", QA: "Asia/Qatar",
  SA: "Asia/Riyadh", SG: "Asia/Singapore", SY: "Asia/Damascus", TH: "Asia/Bangkok", TJ: "Asia/Dushanbe",
  TL: "Asia/Dili", TM: "Asia/Ashgabat", TW: "Asia/Taipei", UZ: "Asia/Tashkent", VN: "Asia/Ho_Chi_Minh",
  YE: "Asia/Aden",
  // Africa
  AO: "Africa/Luanda", BF: "Africa/Ouagadougou", BI: "Africa/Bujumbura", BJ: "Africa/Porto-Novo",
  BW: "Africa/Gaborone", CF: "Africa/Bangui", CG: "Africa/Brazzaville", CI: "Africa/Abidjan",
  CM: "Africa/Douala", CV: "Atlantic/Cape_Verde", DJ: "Africa/Djibouti", DZ: "Africa/Algiers",
  EG: "Africa/Cairo", ER: "Africa/Asmara", ET: "Africa/Addis_Ababa", GA: "Africa/Libreville",
  GH: "Africa/Accra", GM: "Africa/Banjul", GN: "Africa/Conakry", GQ: "Africa/Malabo",
  GW: "Africa/Bissau", KE: "Africa/Nairobi", KM: "Indian/Comoro", LR: "Africa/Monrovia",
  LS: "Africa/Maseru", LY: "Africa/Tripoli", MA: "Africa/Casablanca", MG: "Indian/Antananarivo",
  ML: "Africa/Bamako", MR: "Africa/Nouakchott", MU: "Indian/Mauritius", MW: "Africa/Blantyre",
  MZ: "Africa/Maputo", NA: "Africa/Windhoek", NE: "Africa/Niamey", NG: "Africa/Lagos",
  RW: "Africa/Kigali", SC: "Indian/Mahe", SD: "Africa/Khartoum", SL: "Africa/Freetown",
  SN: "Africa/Dakar", SO: "Africa/Mogadishu", SS: "Africa/Juba", ST: "Africa/Sao_Tome",
  SZ: "Africa/Mbabane", TD: "Africa/Ndjamena", TG: "Africa/Lome", TN: "Africa/Tunis",
  TZ: "Africa/Dar_es_Salaam", UG: "Africa/Kampala", ZA: "Africa/Johannesburg", ZM: "Africa/Lusaka",
  ZW: "Africa/Harare",
  // Americas (one time each; BR, US, CA, MX, CL, EC are absent)
  AR: "America/Argentina/Buenos_Aires", BO: "America/La_Paz", BZ: "America/Belize", CO: "America/Bogota",
  CR: "America/Costa_Rica", CU: "America/Havana", DO: "America/Santo_Domingo", GT: "America/Guatemala",
  GY: "America/Guyana", HN: "America/Tegucigalpa", HT: "America/Port-au-Prince", JM: "America/Jamaica",
  NI: "America/Managua", PA: "America/Panama", PE: "America/Lima", PR: "America/Puerto_Rico",
  PY: "America/Asuncion", SR: "America/Paramaribo", SV: "America/El_Salvador", TT: "America/Port_of_Spain",
  UY: "America/Montevideo", VE: "America/Caracas", BB: "America/Barbados", BS: "America/Nassau",
  // Oceania
  FJ: "Pacific/Fiji", NC: "Pacific/Noumea", SB: "Pacific/Guadalcanal", TO: "Pacific/Tongatapu",
  VU: "Pacific/Efate", WS: "Pacific/Apia",
};
