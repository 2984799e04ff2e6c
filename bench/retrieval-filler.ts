/**
 * Deterministic filler documents for the retrieval benchmark: years of a household's paperwork (bills,
 * bank notes, trips, repairs, other family members' health and cars, orders, school, taxes, pets...),
 * written from templates by a seeded PRNG. It shares the evaluation set's vocabulary (doctors, doses,
 * policy and order numbers, pharmacies, claims) so the questions meet real distractors, but states
 * nothing that answers an evaluation question differently (no second Xfinity account, no other biryani
 * pickups), so a question still has one right chunk.
 */

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chunkPages, DEFAULT_CHUNKING, parseDocument } from '../src/knowledge/index.js';
import { prng } from '../test/sim/shared/prng.js';

type Rng = () => number;
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rng, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const money = (r: Rng, lo: number, hi: number) => `$${(lo + r() * (hi - lo)).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const digits = (r: Rng, n: number) => Array.from({ length: n }, () => int(r, 0, 9)).join('');
const letters = (r: Rng, n: number) => Array.from({ length: n }, () => String.fromCharCode(65 + int(r, 0, 25))).join('');
const code = (r: Rng, prefix: string) => `${prefix}-${digits(r, int(r, 5, 7))}`;

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const date = (r: Rng) => `${pick(r, MONTHS)} ${int(r, 1, 28)}, ${int(r, 2018, 2026)}`;
const time = (r: Rng) => (r() < 0.5 ? `${int(r, 8, 11)}:${pick(r, ['00', '15', '30', '45'])} am` : `${int(r, 1, 5)}:${pick(r, ['00', '15', '30', '45'])} pm`);
const phone = (r: Rng) => `(${pick(r, ['408', '415', '510', '650', '925'])}) 555-0${digits(r, 3)}`;

const FIRST = ['Priya', 'Daniel', 'Maria', 'Kevin', 'Aisha', 'Tom', 'Grace', 'Vikram', 'Elena', 'Sam', 'Nora', 'Hector', 'Lina', 'Rahul', 'Jessica', 'Omar', 'Wei', 'Fatima', 'Brian', 'Keiko'];
const LAST = ['Sharma', 'Nguyen', 'Lopez', 'Patel', 'Johnson', 'Kim', 'Garcia', 'Reddy', 'Brown', 'Singh', 'Okafor', 'Rossi', 'Chen', 'Iyer', 'Walker', 'Haddad'];
const person = (r: Rng) => `${pick(r, FIRST)} ${pick(r, LAST)}`;
const STREETS = ['Paseo Padre Pkwy', 'Fremont Blvd', 'Stevenson Blvd', 'Mowry Ave', 'Thornton Ave', 'Warm Springs Blvd', 'Niles Blvd', 'Peralta Blvd', 'Decoto Rd', 'Osgood Rd', 'Grimmer Blvd'];
const CITIES = ['Fremont', 'Newark', 'Union City', 'Milpitas', 'San Jose', 'Hayward', 'Pleasanton', 'Sunnyvale'];
const address = (r: Rng) => `${int(r, 100, 49999)} ${pick(r, STREETS)}, ${pick(r, CITIES)}`;

const UTILITIES = ['PG&E', 'Alameda County Water District', 'Republic Services garbage', 'AT&T landline', 'T-Mobile family plan', 'Sonic fiber internet', 'East Bay Municipal water'];
const MERCHANTS = ['Costco', 'Target', 'Home Depot', 'Trader Joe\'s', 'Safeway', 'Patel Brothers', 'Best Buy', 'IKEA', 'Walmart', 'Lowe\'s', 'REI', 'Macy\'s'];
const AIRLINES = ['United', 'Alaska', 'Southwest', 'Air India', 'Delta', 'JetBlue', 'Emirates'];
const AIRPORTS = ['SFO', 'SJC', 'OAK', 'SEA', 'JFK', 'ORD', 'DFW', 'HYD', 'BOM', 'DEL', 'LAX', 'PHX'];
const HOTELS = ['Hilton Garden Inn', 'Marriott Courtyard', 'Hyatt Place', 'Holiday Inn Express', 'Taj Krishna', 'Best Western Plus', 'Residence Inn'];
const TRADES = [
  ['plumber', 'replaced the kitchen faucet cartridge', 'Bay Plumbing'],
  ['electrician', 'added a GFCI outlet in the garage', 'Spark Electric'],
  ['HVAC technician', 'serviced the furnace and replaced the filter', 'CoolAir Heating'],
  ['roofer', 'patched two cracked tiles above the porch', 'Summit Roofing'],
  ['painter', 'repainted the fence and the front door', 'Fresh Coat Painters'],
  ['handyman', 'fixed the sliding door track and rehung a cabinet', 'Handy Hank'],
  ['pest control', 'treated for ants along the foundation', 'Orkin'],
  ['garage door company', 'replaced a broken torsion spring', 'Precision Door'],
] as const;
const DRUGS = [
  ['amlodipine', '5 mg', 'blood pressure'],
  ['levothyroxine', '50 mcg', 'thyroid'],
  ['metoprolol', '25 mg', 'heart rate'],
  ['omeprazole', '20 mg', 'acid reflux'],
  ['sertraline', '50 mg', 'mood'],
  ['alendronate', '70 mg weekly', 'bone density'],
  ['losartan', '50 mg', 'blood pressure'],
  ['gabapentin', '300 mg', 'nerve pain'],
  ['calcium with vitamin D', '600 mg', 'bones'],
] as const;
const SPECIALTIES = ['dermatology', 'orthopedics', 'endocrinology', 'dentistry', 'physical therapy', 'audiology', 'gastroenterology', 'rheumatology', 'podiatry'];
const CLINICS = ['Palo Alto Medical Foundation', 'Kaiser Permanente Fremont', 'Stanford Health Care Newark', 'Washington Township Clinic', 'Sutter Health Walnut Creek', 'Bay Valley Dental', 'Smile Studio Fremont'];
const ITEMS = ['air fryer', 'office chair', 'pressure cooker', 'phone case', 'garden hose', 'standing desk', 'rice cooker', 'bookshelf', 'vacuum filters', 'printer ink', 'yoga mat', 'winter jacket', 'bedsheets', 'water filter', 'electric kettle'];
const STORES = ['Amazon', 'Walmart.com', 'Target.com', 'Best Buy', 'Wayfair', 'Costco.com', 'eBay', 'Etsy'];
const CARRIERS = ['UPS', 'FedEx', 'USPS', 'OnTrac', 'Amazon Logistics'];
const GROCERIES = ['basmati rice', 'toor dal', 'curry leaves', 'paneer', 'okra', 'mangoes', 'yogurt', 'ghee', 'green chilies', 'cilantro', 'onions', 'tomatoes', 'chickpeas', 'cumin seeds', 'oat milk', 'eggs', 'bread', 'spinach'];
const DISHES = ['sambar', 'aloo gobi', 'chana masala', 'lemon rice', 'palak paneer', 'vegetable biryani', 'upma', 'rasam', 'dal tadka', 'bisi bele bath'];

type Theme = { file: string; markdown: boolean; paragraph: (r: Rng) => string; heading?: (r: Rng) => string };

const monthHeading = (r: Rng) => `${pick(r, MONTHS)} ${int(r, 2018, 2026)}`;

const THEMES: Theme[] = [
  {
    file: 'household-bills.md',
    markdown: true,
    heading: monthHeading,
    paragraph: (r) =>
      pick(r, [
        () => `Paid the ${pick(r, UTILITIES)} bill for ${pick(r, MONTHS)}: ${money(r, 38, 420)}, confirmation ${letters(r, 2)}${digits(r, 8)}. ${pick(r, ['Autopay failed because the card expired, paid by phone.', 'Usage was higher than last year because of the heat wave.', 'Asked about the budget billing plan; they will mail a form.', 'A late fee was waived after a call with the billing department.'])}`,
        () => `${pick(r, UTILITIES)} account review with ${person(r)} on ${date(r)}: the account number ends in ${digits(r, 4)}, next bill due on the ${int(r, 2, 28)}th, current balance ${money(r, 0, 300)}. Paperless billing is on; statements go to the family email.`,
        () => `Property tax installment ${pick(r, ['one', 'two'])} paid on ${date(r)}: ${money(r, 3200, 6900)} to the Alameda County Treasurer, parcel ${digits(r, 3)}-${digits(r, 4)}-${digits(r, 3)}, receipt ${digits(r, 10)}.`,
      ])(),
  },
  {
    file: 'bank-and-cards.txt',
    markdown: false,
    paragraph: (r) =>
      pick(r, [
        () => `${date(r)}: disputed a charge of ${money(r, 12, 900)} from ${pick(r, MERCHANTS)} that was billed twice. Case number ${code(r, 'DSP')}; the agent, ${person(r)}, said a provisional credit would post within ${int(r, 3, 10)} business days.`,
        () => `${date(r)}: the ${pick(r, ['Chase Freedom', 'Citi Double Cash', 'Discover It', 'Amex Blue Cash', 'Wells Fargo debit'])} card ending ${digits(r, 4)} was replaced after ${pick(r, ['a skimmer alert at a gas station', 'it was lost at the airport', 'the chip stopped working', 'a suspicious online purchase'])}. New card arrives in ${int(r, 3, 9)} days; update autopays for ${pick(r, UTILITIES)} and ${pick(r, MERCHANTS)}.`,
        () => `Transferred ${money(r, 500, 15000)} from savings to checking on ${date(r)} for ${pick(r, ['the roof repair', 'tuition', 'the property tax', 'the trip to India', 'the new refrigerator'])}. Reference ${letters(r, 3)}${digits(r, 9)}. Branch: ${address(r)}, banker ${person(r)}, ${phone(r)}.`,
        () => `Certificate of deposit ${code(r, 'CD')} matures on ${date(r)} at ${(2 + r() * 3).toFixed(2)}% APY. Decide before then whether to roll it over for ${int(r, 6, 24)} months or move it to the brokerage account.`,
      ])(),
  },
  {
    file: 'travel-notes.md',
    markdown: true,
    heading: (r) => `Trip to ${pick(r, ['Seattle', 'Hyderabad', 'New York', 'Chicago', 'Phoenix', 'Dallas', 'Los Angeles', 'Mumbai', 'Portland'])}, ${int(r, 2018, 2026)}`,
    paragraph: (r) =>
      pick(r, [
        () => `Flight: ${pick(r, AIRLINES)} ${int(r, 10, 2999)} from ${pick(r, AIRPORTS)} to ${pick(r, AIRPORTS)} on ${date(r)}, departing ${time(r)}, confirmation ${letters(r, 6)}, seats ${int(r, 8, 40)}${pick(r, ['A', 'C', 'D', 'F'])} and ${int(r, 8, 40)}${pick(r, ['B', 'E'])}. Checked bags: ${int(r, 0, 3)}.`,
        () => `Hotel: ${pick(r, HOTELS)}, ${address(r)}, check-in ${date(r)} after 3 pm, ${int(r, 2, 9)} nights, confirmation ${digits(r, 9)}, rate ${money(r, 119, 329)} a night with breakfast. Free cancellation until 48 hours before arrival.`,
        () => `Rental car from ${pick(r, ['Enterprise', 'Hertz', 'Avis', 'Budget', 'National'])}, reservation ${letters(r, 2)}${digits(r, 7)}: ${pick(r, ['a midsize sedan', 'a compact SUV', 'a minivan'])}, pickup at the airport counter, declined the collision waiver because the credit card covers it.`,
        () => `Travel insurance from ${pick(r, ['Allianz', 'Travel Guard', 'World Nomads'])}, policy ${code(r, 'TRV')}, covers trip cancellation up to ${money(r, 2000, 8000)} and emergency medical abroad. Claims line ${phone(r)}.`,
      ])(),
  },
  {
    file: 'home-maintenance-log.md',
    markdown: true,
    heading: monthHeading,
    paragraph: (r) => {
      const [trade, task, company] = pick(r, TRADES);
      return pick(r, [
        () => `${date(r)}: the ${trade} from ${company} (${person(r)}) ${task}. Invoice ${code(r, 'INV')}, ${money(r, 85, 1800)}, ${int(r, 1, 5)}-year warranty on labor. ${pick(r, ['Call them again in the fall.', 'Quote for the rest of the work is pending.', 'Left the old part in the garage.', 'Paid by check number ' + digits(r, 4) + '.'])}`,
        () => `Got a quote from ${company} on ${date(r)} to ${pick(r, ['replace the water heater', 'redo the bathroom grout', 'install attic insulation', 'replace the back fence', 'seal the driveway', 'install a tankless heater'])}: ${money(r, 400, 9000)}, valid for ${int(r, 15, 60)} days. Contact ${phone(r)}.`,
      ])();
    },
  },
  {
    file: 'lakshmi-health-notes.md',
    markdown: true,
    heading: (r) => `Amma's visit, ${date(r)}`,
    paragraph: (r) => {
      const [drug, dose, reason] = pick(r, DRUGS);
      return pick(r, [
        () => `Amma (Lakshmi Kumar) takes ${drug} ${dose} for ${reason}, prescribed by Dr. ${pick(r, LAST)}. Refill at CVS on ${pick(r, STREETS)}, Rx ${digits(r, 7)}; ${int(r, 0, 6)} refills left as of ${date(r)}.`,
        () => `Amma saw Dr. ${person(r)} (${pick(r, SPECIALTIES)}) at ${pick(r, CLINICS)} on ${date(r)} at ${time(r)}. ${pick(r, ['Blood pressure was 142/88; recheck in six weeks.', 'X-ray of the left wrist was normal.', 'Hearing test showed mild loss in the right ear.', 'Labs ordered: CBC, lipid panel, TSH.', 'Follow-up in three months, fasting.'])} Her Medicare Advantage member ID is on her own card, not in this file.`,
        () => `Amma's appointment reminder: ${pick(r, SPECIALTIES)} follow-up on ${date(r)}, copay ${money(r, 0, 45)}, bring the medication list and her reading glasses. The clinic is at ${address(r)}; parking validation at the front desk.`,
      ])();
    },
  },
  {
    file: 'meera-car-and-home-insurance.txt',
    markdown: false,
    paragraph: (r) =>
      pick(r, [
        () => `Meera's 2021 Toyota Camry: ${pick(r, ['oil change and tire rotation', 'new wiper blades and cabin filter', 'brake inspection', 'alignment after the pothole', '30,000-mile service'])} at Fremont Toyota on ${date(r)}, odometer ${int(r, 5, 60)},${digits(r, 3)} miles, repair order ${code(r, 'RO')}, ${money(r, 49, 780)}.`,
        () => `Homeowners insurance with ${pick(r, ['State Farm', 'Allstate', 'Farmers', 'Travelers'])}: policy ${code(r, 'HO')}, dwelling coverage ${money(r, 600000, 950000)}, deductible ${pick(r, ['$1,000', '$2,500', '$5,000'])}, renews ${pick(r, MONTHS)} ${int(r, 1, 28)}. Agent ${person(r)}, ${phone(r)}.`,
        () => `Umbrella liability policy ${code(r, 'UMB')} for ${pick(r, ['$1 million', '$2 million'])}, premium ${money(r, 280, 520)} a year, billed with the homeowners policy. Earthquake coverage through the California Earthquake Authority, policy ${code(r, 'CEA')}.`,
      ])(),
  },
  {
    file: 'online-orders-archive.md',
    markdown: true,
    heading: monthHeading,
    paragraph: (r) =>
      pick(r, [
        () => `Ordered a ${pick(r, ITEMS)} from ${pick(r, STORES)} on ${date(r)}, order ${digits(r, 3)}-${digits(r, 7)}-${digits(r, 7)}, ${money(r, 9, 650)}. Shipped with ${pick(r, CARRIERS)}, tracking ${letters(r, 2)}${digits(r, 12)}, expected ${pick(r, WEEKDAYS)}.`,
        () => `Returned the ${pick(r, ITEMS)} to ${pick(r, STORES)} (${pick(r, ['wrong size', 'arrived damaged', 'no longer needed', 'missing parts'])}). Return authorization ${code(r, 'RMA')}, refund of ${money(r, 9, 400)} to the card ending ${digits(r, 4)} on ${date(r)}.`,
        () => `Takeout from ${pick(r, ['Kebab House', 'Saravana Bhavan', 'Chaat Corner', 'Pizza My Heart', 'Tandoori Oven', 'Dosa Hut'])} for ${pick(r, ['Diwali', 'a birthday', 'the cricket match', 'guests', 'a Friday night'])}: order ${letters(r, 2)}-${digits(r, 5)}, ${money(r, 25, 180)}, picked up at ${time(r)}.`,
      ])(),
  },
  {
    file: 'arjun-college.txt',
    markdown: false,
    paragraph: (r) =>
      pick(r, [
        () => `Arjun's tuition for the ${pick(r, ['fall', 'winter', 'spring'])} quarter: ${money(r, 4000, 14000)}, paid ${date(r)} through the student portal, payment ID ${code(r, 'UCD')}. The financial aid office (${person(r)}) confirmed the scholarship of ${money(r, 1000, 5000)} was applied.`,
        () => `Arjun's apartment lease at ${address(r)}: rent ${money(r, 950, 1800)} a month, his share; security deposit ${money(r, 500, 1500)} held by the landlord, ${person(r)}. Lease ends ${date(r)}; notice is due 60 days before.`,
        () => `Textbooks and supplies for ${pick(r, ['thermodynamics', 'linear algebra', 'organic chemistry', 'data structures', 'economics'])}: ${money(r, 40, 400)} at the campus store on ${date(r)}, receipt ${digits(r, 8)}. Sell back at the end of the term.`,
      ])(),
  },
  {
    file: 'taxes-and-paperwork.md',
    markdown: true,
    heading: (r) => `Tax year ${int(r, 2017, 2025)}`,
    paragraph: (r) =>
      pick(r, [
        () => `${pick(r, ['1099-INT', '1099-DIV', '1099-R', 'W-2', '1098 mortgage interest', '1098-T tuition'])} from ${pick(r, ['Chase', 'Fidelity', 'Vanguard', 'Schwab', 'the county', 'Wells Fargo'])}: ${money(r, 12, 24000)}. Uploaded to the tax preparer, ${person(r)}, on ${date(r)}.`,
        () => `Federal return accepted on ${date(r)}, refund ${money(r, 100, 3400)} by direct deposit; California return ${pick(r, ['owed', 'refunded'])} ${money(r, 50, 1900)}. Preparer fee ${money(r, 250, 600)}, invoice ${code(r, 'TAX')}.`,
        () => `DMV: ${pick(r, ['renewed the registration for the Camry', 'updated the address on the licenses', 'ordered a replacement title', 'renewed Meera\'s license'])} on ${date(r)}, fee ${money(r, 20, 320)}, confirmation ${letters(r, 3)}${digits(r, 6)}.`,
      ])(),
  },
  {
    file: 'groceries-and-recipes.md',
    markdown: true,
    heading: (r) => `Week of ${date(r)}`,
    paragraph: (r) =>
      pick(r, [
        () => `Shopping list for ${pick(r, MERCHANTS)}: ${Array.from({ length: int(r, 4, 9) }, () => pick(r, GROCERIES)).join(', ')}. Budget ${money(r, 40, 220)}; use the coupon that expires ${pick(r, WEEKDAYS)}.`,
        () => `Recipe notes for ${pick(r, DISHES)}: soak ${int(r, 1, 3)} cups of ${pick(r, ['toor dal', 'rice', 'chickpeas', 'moong dal'])} for ${int(r, 1, 8)} hours, pressure cook ${int(r, 2, 6)} whistles, temper with ${pick(r, ['mustard seeds and curry leaves', 'cumin and garlic', 'ghee and asafoetida'])}. Serves ${int(r, 2, 8)}.`,
        () => `Dinner party on ${date(r)} for ${int(r, 4, 14)} guests: ${pick(r, DISHES)}, ${pick(r, DISHES)} and ${pick(r, DISHES)}; ${person(r)} is vegan and ${person(r)} avoids gluten. Borrow folding chairs from the neighbors at ${address(r)}.`,
      ])(),
  },
  {
    file: 'pet-care.txt',
    markdown: false,
    paragraph: (r) =>
      pick(r, [
        () => `Biscuit (beagle, born ${int(r, 2015, 2020)}) saw Dr. ${pick(r, LAST)} at Mission Pet Hospital on ${date(r)}: ${pick(r, ['rabies and DHPP boosters', 'ear infection, drops twice a day for a week', 'dental cleaning under anesthesia', 'annual exam and heartworm test', 'a limp in the front paw, x-ray normal'])}. Bill ${money(r, 65, 900)}, invoice ${code(r, 'VET')}.`,
        () => `Pet insurance with ${pick(r, ['Trupanion', 'Healthy Paws', 'Lemonade Pet'])}, policy ${code(r, 'PET')}, ${pick(r, ['90%', '80%'])} reimbursement after a ${pick(r, ['$250', '$500'])} deductible. Claim for the ${date(r)} visit submitted, reference ${digits(r, 9)}.`,
        () => `Dog walker ${person(r)} comes ${pick(r, WEEKDAYS)}s and ${pick(r, WEEKDAYS)}s at noon, ${money(r, 18, 30)} per walk, paid monthly by Zelle to ${phone(r)}. Boarding at ${pick(r, ['Happy Tails', 'Bark Avenue', 'Camp Bow Wow'])} when the family travels.`,
      ])(),
  },
  {
    file: 'community-and-events.md',
    markdown: true,
    heading: monthHeading,
    paragraph: (r) =>
      pick(r, [
        () => `HOA: ${pick(r, ['quarterly dues', 'special assessment for the pool', 'landscaping contract vote', 'architectural approval for solar panels'])} on ${date(r)}, ${money(r, 90, 1200)}, account ${digits(r, 6)}. The HOA manager is ${person(r)}, ${phone(r)}.`,
        () => `Temple donation of ${money(r, 51, 1001)} for ${pick(r, ['Diwali', 'Ugadi', 'Navaratri', 'the building fund', 'Sankranti'])} on ${date(r)}, receipt ${digits(r, 7)} (tax deductible). Volunteered in the kitchen for ${int(r, 2, 6)} hours.`,
        () => `Neighborhood watch meeting at ${address(r)} on ${date(r)}, ${time(r)}. Topics: ${pick(r, ['package thefts', 'speeding on the cul-de-sac', 'the block party', 'street light outages', 'the new crossing guard'])}. Minutes taken by ${person(r)}.`,
      ])(),
  },
  {
    file: 'subscriptions-and-phones.txt',
    markdown: false,
    paragraph: (r) =>
      pick(r, [
        () => `${pick(r, ['Netflix', 'YouTube Premium', 'Spotify Family', 'Disney+', 'iCloud 2 TB', 'Costco Executive membership', 'Amazon Prime', 'New York Times digital', 'Hotstar'])} renews on ${date(r)} at ${money(r, 6, 130)}, billed to the card ending ${digits(r, 4)}. ${pick(r, ['Keep it.', 'Cancel after the cricket season.', 'Switch to the annual plan to save money.', 'Shared with Arjun.'])}`,
        () => `Mobile plan with ${pick(r, ['T-Mobile', 'Verizon', 'AT&T', 'Mint Mobile'])}: account ${digits(r, 9)}, ${int(r, 2, 5)} lines, ${money(r, 60, 240)} a month, PIN kept in the password manager. ${pick(r, ['Upgraded a phone on ' + date(r) + '.', 'Called about a roaming charge, credited.', 'The promo credit ends soon.'])}`,
      ])(),
  },
];

function paragraphs(theme: Theme, r: Rng, count: number): string[] {
  const out: string[] = [];
  for (let n = 0; out.length < count; n++) {
    if (theme.markdown && theme.heading && n % 8 === 0) out.push(`## ${theme.heading(r)}`);
    out.push(theme.paragraph(r));
  }
  return out.slice(0, count);
}

/** How many chunks the knowledge base makes of a file: the same parser and chunker it uses. */
async function chunkCount(theme: Theme, text: string): Promise<number> {
  const parsed = await parseDocument(theme.markdown ? 'markdown' : 'text', Buffer.from(text));
  return chunkPages(parsed.pages, DEFAULT_CHUNKING).length;
}

/**
 * Writes one filler file per theme into `dir`, sized so that together they make `chunks` chunks (to
 * within a chunk or two: overlap makes the count move in small steps). Same seed, same files.
 */
export async function writeFillerDocuments(dir: string, chunks: number, seed = 1): Promise<{ files: string[]; chunks: number }> {
  let made = 0;
  const files: string[] = [];
  for (const [i, theme] of THEMES.entries()) {
    const quota = Math.round((chunks - made) / (THEMES.length - i));
    if (quota <= 0) break;
    // Enough paragraphs for the quota (the same seed always starts the same way), then the longest
    // prefix within it.
    let pool: string[] = [];
    const text = (n: number) => pool.slice(0, n).join('\n\n') + '\n';
    for (let size = quota * 2; (await chunkCount(theme, text(pool.length))) < quota; size *= 2) pool = paragraphs(theme, prng(seed * 1000 + i), size);
    let lo = 1;
    let hi = pool.length;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if ((await chunkCount(theme, text(mid))) <= quota) lo = mid;
      else hi = mid - 1;
    }
    writeFileSync(join(dir, theme.file), text(lo));
    made += await chunkCount(theme, text(lo));
    files.push(theme.file);
  }
  return { files, chunks: made };
}

const QUESTION_TEMPLATES: Array<(r: Rng) => string> = [
  (r) => `What was the confirmation number for the ${pick(r, UTILITIES)} bill in ${pick(r, MONTHS)}?`,
  (r) => `Which card was replaced after the problem at ${pick(r, MERCHANTS)}?`,
  (r) => `What's the case number for the disputed ${pick(r, MERCHANTS)} charge?`,
  (r) => `Which hotel did they book for the ${pick(r, ['Seattle', 'Hyderabad', 'Chicago', 'Dallas'])} trip?`,
  (r) => `What seat is he in on the ${pick(r, AIRLINES)} flight?`,
  (r) => `How much did the ${pick(r, TRADES)[0]} charge last time?`,
  (r) => `What dose of ${pick(r, DRUGS)[0]} does his mother take?`,
  (r) => `When is Amma's ${pick(r, SPECIALTIES)} follow-up?`,
  (r) => `What was the tracking number for the ${pick(r, ITEMS)}?`,
  (r) => `Did the refund for the ${pick(r, ITEMS)} come through?`,
  (r) => `How much was Arjun's tuition for the ${pick(r, ['fall', 'winter', 'spring'])} quarter?`,
  (r) => `What's the policy number on the homeowners insurance?`,
  (r) => `When was the Camry last serviced at Fremont Toyota?`,
  (r) => `How much did the ${pick(r, ['1099-INT', 'W-2', '1098 mortgage interest'])} show?`,
  (r) => `What do we need from ${pick(r, MERCHANTS)} for the ${pick(r, DISHES)}?`,
  (r) => `When is Biscuit due for ${pick(r, ['rabies', 'a dental cleaning', 'the annual exam'])}?`,
  (r) => `How much are the HOA ${pick(r, ['dues', 'assessments'])} this quarter?`,
  (r) => `When does ${pick(r, ['Netflix', 'Spotify Family', 'Amazon Prime', 'iCloud 2 TB'])} renew?`,
];

/** Questions in the filler's own domains, for timing searches over many different queries. */
export function fillerQuestions(count: number, seed = 7): string[] {
  const r = prng(seed);
  return Array.from({ length: count }, (_, i) => QUESTION_TEMPLATES[i % QUESTION_TEMPLATES.length]!(r));
}
