/**
 * Query expansion for keyword search: the words people use on the phone for the fields documents and
 * profiles label formally. "When was he born?" shares no word with "Date of Birth: March 14, 1968";
 * BM25 cannot bridge that, an embeddings model might, and without an embeddings key nothing else
 * would. So a question's words that name a field pull in the field's usual labels, OR-ed with the
 * question's own words (a chunk that has both ranks first).
 *
 * The table is small and general on purpose: personal data fields (phone, birth, address, family,
 * email, work, language, deliveries, availability) and the common lay words for what health, insurance
 * and car paperwork calls something else (office visit, urgent care, prior authorization, laboratory,
 * vaccine, surgery, cardiology, registration...). It is not fitted to any one document: every entry is
 * a phrasing a caller uses for a label such paperwork commonly carries. README ("Retrieval quality and
 * speed") lists it and the recall it measured. Pure module.
 */

/** Field label groups: `when` any of these words (or two-word phrases) is in the question, `add` these terms. */
const FIELD_SYNONYMS: ReadonlyArray<{ when: readonly string[]; add: readonly string[] }> = [
  // Personal data (profiles, forms, ID cards).
  { when: ['phone', 'mobile', 'cell', 'cellphone', 'telephone', 'reach', 'contact', 'text', 'number to call'], add: ['phone', 'mobile', 'cell', 'telephone'] },
  { when: ['born', 'birth', 'birthday', 'birthdate', 'dob', 'age', 'how old'], add: ['born', 'birth', 'dob', 'age'] },
  { when: ['address', 'live', 'lives', 'living', 'street', 'reside', 'resides', 'house'], add: ['address', 'home', 'street'] },
  { when: ['email', 'e mail'], add: ['email'] },
  { when: ['mail', 'mailing', 'send'], add: ['address', 'po', 'box'] },
  { when: ['how long', 'deadline', 'by when', 'how soon'], add: ['within', 'days', 'until'] },
  { when: ['wife', 'husband', 'spouse', 'partner', 'married'], add: ['spouse', 'wife', 'husband'] },
  { when: ['son', 'daughter', 'child', 'children', 'kids'], add: ['son', 'daughter', 'child', 'dependent'] },
  { when: ['job', 'work', 'occupation', 'profession', 'employer', 'career'], add: ['occupation', 'employer', 'retired'] },
  { when: ['language', 'languages', 'speak', 'speaks'], add: ['languages', 'speaks'] },
  { when: ['delivery', 'deliver', 'package', 'parcel', 'drop off', 'gate', 'pin', 'door code'], add: ['deliveries', 'packages', 'gate', 'code'] },
  { when: ['knock', 'doorbell', 'bell'], add: ['bell', 'ring'] },
  { when: ['available', 'availability', 'good time', 'best time', 'catch'], add: ['availability', 'reach'] },
  { when: ['emergency', 'next of kin'], add: ['emergency', 'contacts'] },
  // Common phone phrasings for what health and insurance paperwork calls something else.
  { when: ['doctor visit', 'regular doctor', 'family doctor'], add: ['office', 'visit', 'primary', 'care', 'pcp'] },
  { when: ['checkup', 'check up', 'see the doctor', 'seeing the doctor'], add: ['appointment', 'appointments', 'visit'] },
  { when: ['allergic', 'allergy', 'reaction'], add: ['allergies', 'allergy'] },
  { when: ['breathing machine', 'sleep apnea', 'snoring'], add: ['cpap'] },
  { when: ['walk in'], add: ['urgent', 'care'] },
  { when: ['pre approval', 'preapproval', 'approval', 'approve'], add: ['prior', 'authorization'] },
  { when: ['blood work', 'bloodwork', 'labs', 'lab work', 'blood test'], add: ['laboratory', 'lab', 'tests'] },
  { when: ['counseling', 'counselling', 'therapist', 'psychologist'], add: ['mental', 'health', 'outpatient'] },
  { when: ['glasses', 'eyeglasses', 'contacts lenses'], add: ['vision', 'frames', 'lenses', 'optical'] },
  { when: ['sugar', 'diabetic'], add: ['diabetes', 'glucose'] },
  { when: ['hypertension', 'bp'], add: ['blood', 'pressure'] },
  { when: ['medicine', 'medicines', 'meds', 'pills', 'drugs'], add: ['medication', 'prescription', 'pharmacy'] },
  { when: ['shot', 'shots', 'jab', 'vaccinated', 'booster'], add: ['vaccine', 'immunizations'] },
  { when: ['operation', 'operations', 'operated', 'surgeries'], add: ['surgery'] },
  { when: ['heart doctor', 'cardiologist'], add: ['cardiology'] },
  { when: ['eye doctor', 'optometrist'], add: ['ophthalmology', 'eye'] },
  { when: ['weigh'], add: ['weight'] },
  // Car paperwork.
  { when: ['tags', 'registration'], add: ['registration', 'renewal'] },
  { when: ['vehicle identification'], add: ['vin'] },
  { when: ['drive', 'drives', 'vehicle'], add: ['car'] },
  { when: ['won t start', 'breaks down', 'broke down', 'tow', 'stranded'], add: ['roadside', 'towing', 'jump'] },
  // Household accounts.
  { when: ['utility', 'utilities', 'power bill', 'electric'], add: ['electricity', 'gas', 'water'] },
];

const MAX_ADDED = 16;

/**
 * The terms a question's words pull in (none already among `terms`), in table order, at most 16.
 * `words` are the question's words in order, lower-cased, stopwords included (phrases span them).
 */
export function fieldSynonyms(words: string[], terms: string[]): string[] {
  const text = ` ${words.join(' ')} `;
  const added: string[] = [];
  for (const group of FIELD_SYNONYMS) {
    if (!group.when.some((w) => text.includes(` ${w} `))) continue;
    for (const t of group.add) if (!terms.includes(t) && !added.includes(t) && added.length < MAX_ADDED) added.push(t);
  }
  return added;
}

/** The table, for documentation and tests. */
export const FIELD_SYNONYM_TABLE = FIELD_SYNONYMS;
