/**
 * A client's onboarding position as the identity slice knows it. The KYC slice extends the stages;
 * this module only fixes the first ones and the rule for what comes next.
 *
 * Invariants:
 * - a freshly registered client is at stage 'registered' with KYC 'not_started'
 * - `next` is a pure function of the stage: every stage has exactly one next step ('none' at the end)
 */
export const ONBOARDING_STAGES = ['registered', 'profile_completed', 'kyc_submitted', 'approved', 'rejected'] as const;
export type OnboardingStage = (typeof ONBOARDING_STAGES)[number];
/** The verification status stored on the profile (the client's view, domain/kyc/client-status.ts, refines it). */
export type KycStatus = 'not_started' | 'in_review' | 'approved' | 'rejected' | 'action_required';

const NEXT: Record<OnboardingStage, string> = {
  registered: 'complete_profile',
  profile_completed: 'submit_kyc',
  kyc_submitted: 'await_review',
  approved: 'fund_account',
  rejected: 'contact_support',
};

export function nextStep(stage: OnboardingStage): string {
  return NEXT[stage];
}

export function isOnboardingStage(s: unknown): s is OnboardingStage {
  return typeof s === 'string' && (ONBOARDING_STAGES as readonly string[]).includes(s);
}

export interface OnboardingState {
  stage: OnboardingStage;
  kycStatus: KycStatus;
  next: string;
}

export function initialOnboarding(): OnboardingState {
  return { stage: 'registered', kycStatus: 'not_started', next: nextStep('registered') };
}

/**
 * The stage after an onboarding step: a 'registered' client reaches 'profile_completed' once its
 * personal details are stored and, when its requirements name a questionnaire, it has answered it
 * (any result: a 'not_appropriate' client proceeds with products blocked). Later stages never move back.
 */
export function stageAfterProfileStep(
  stage: OnboardingStage,
  done: { details: boolean; questionnaireRequired: boolean; questionnaireAnswered: boolean },
): OnboardingStage {
  if (stage !== 'registered') return stage;
  return done.details && (!done.questionnaireRequired || done.questionnaireAnswered) ? 'profile_completed' : stage;
}
