import model from "wink-eng-lite-web-model";
import winkNLP, { type ItsFunction, type WinkMethods } from "wink-nlp";
import bm25Vectorizer from "wink-nlp/utilities/bm25-vectorizer";
import similarity from "wink-nlp/utilities/similarity";

// Text similarity between an incident and runbooks: BM25-weighted bags of
// stemmed words compared by cosine, with wink-nlp's English tokenizer,
// Porter stemmer, BM25 vectorizer and cosine. Inverse document frequencies
// come from the runbooks the caller passes, so a word that every runbook
// uses (such as "check") counts for little.

let nlp: WinkMethods | undefined;

function getNlp(): WinkMethods {
  // Loading the model took about 60 ms on a 2-core machine, so it happens
  // on first use.
  nlp ??= winkNLP(model);
  return nlp;
}

/**
 * Splits text into stemmed words without stop words and punctuation.
 * Identifiers such as rds_cpu_utilization or checkout-api count as their
 * parts, so they meet the same words in prose.
 */
export function tokenize(text: string): string[] {
  const instance = getNlp();
  const its = instance.its;
  const spaced = text.replace(/[_\-./:]+/g, " ");
  return instance
    .readDoc(spaced)
    .tokens()
    .filter(
      (token) =>
        token.out(its.type) === "word" && !token.out(its.stopWordFlag),
    )
    // The model's and wink-nlp's type declarations disagree on the addon
    // types of `its.stem`, which returns the Porter stem of each token.
    .out(its.stem as unknown as ItsFunction<string>) as string[];
}

/** A corpus of tokenized documents whose BM25 weights are fixed once built. */
export type SimilarityIndex = {
  /** Cosine similarity (0 to 1) of a token list with document `index`. */
  similarityTo(tokens: string[], index: number): number;
  /** Cosine similarity (0 to 1) of two token lists with this corpus' weights. */
  similarityBetween(a: string[], b: string[]): number;
};

/** Builds the BM25 weights of a corpus of token lists. */
export function buildSimilarityIndex(documents: string[][]): SimilarityIndex {
  const vectorizer = bm25Vectorizer();
  for (const tokens of documents) vectorizer.learn(tokens);
  const empty = documents.length === 0;
  const documentBows = documents.map((tokens) =>
    empty ? {} : vectorizer.bowOf(tokens),
  );

  function cosine(a: Record<string, number>, b: Record<string, number>) {
    if (Object.keys(a).length === 0 || Object.keys(b).length === 0) return 0;
    const value = similarity.bow.cosine(a, b);
    return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
  }

  return {
    similarityTo(tokens, index) {
      if (empty) return 0;
      return cosine(vectorizer.bowOf(tokens), documentBows[index] ?? {});
    },
    similarityBetween(a, b) {
      if (empty) return 0;
      // Words that no runbook uses still count between two incidents, with
      // an inverse document frequency of 1 (processOOV true).
      const bowOf = vectorizer.bowOf as (tokens: string[], processOOV: boolean) => Record<string, number>;
      return cosine(bowOf(a, true), bowOf(b, true));
    },
  };
}
