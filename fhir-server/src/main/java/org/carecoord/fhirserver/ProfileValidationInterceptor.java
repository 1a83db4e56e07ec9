package org.carecoord.fhirserver;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.jpa.interceptor.validation.IRepositoryValidatingRule;
import ca.uhn.fhir.jpa.interceptor.validation.RepositoryValidatingRuleBuilder;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException;
import ca.uhn.fhir.util.ExtensionUtil;
import ca.uhn.fhir.util.HapiExtensions;
import ca.uhn.fhir.util.OperationOutcomeUtil;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.IInstanceValidatorModule;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.SingleValidationMessage;
import ca.uhn.fhir.validation.ValidationResult;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import org.hl7.fhir.instance.model.api.IBaseOperationOutcome;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r5.utils.validation.constants.BestPracticeWarningLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.stereotype.Component;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Write-time profile enforcement, run in HAPI's STORAGE_PRESTORAGE_RESOURCE_CREATED/UPDATED hooks
 * (so it also covers every entry of a transaction/batch bundle, conditional writes and PATCH).
 *
 * <ol>
 *   <li>FHIR_REQUIRED_PROFILES: rules built with HAPI's {@link RepositoryValidatingRuleBuilder}
 *       ({@code forResourcesOfType(T).requireAtLeastProfile(url)}).</li>
 *   <li>A resource that declares profiles in meta.profile is validated by HAPI's JPA instance validator
 *       (the same module {@code $validate} uses). Its support chain reads the StructureDefinitions,
 *       ValueSets and CodeSystems stored on this server and generates snapshots for
 *       differential-only profiles. Resources without meta.profile are not validated at all.</li>
 * </ol>
 *
 * Why not HAPI's RepositoryValidatingInterceptor as is: it answers 412 Precondition Failed (which the
 * hub must keep for If-Match conflicts), it validates every resource of a type even without a declared
 * profile, and its validator refuses profiles it does not know and URLs on example.org domains.
 * Failures here are 422 Unprocessable Entity with the validator's OperationOutcome, errors first.
 */
@Component
@Interceptor
public class ProfileValidationInterceptor {

    private static final Logger LOG = LoggerFactory.getLogger(ProfileValidationInterceptor.class);

    private final FhirContext fhirContext;
    private final FhirValidator validator;
    private final Map<String, List<IRepositoryValidatingRule>> requiredProfileRules;

    public ProfileValidationInterceptor(
            FhirContext fhirContext,
            @Qualifier("myInstanceValidator") IInstanceValidatorModule instanceValidator,
            RepositoryValidatingRuleBuilder ruleBuilder,
            HubSettings settings) {
        this.fhirContext = fhirContext;

        if (instanceValidator instanceof FhirInstanceValidator fiv) {
            // Profiles we do not hold (e.g. an IG not loaded here) give a warning, not a rejection.
            fiv.setErrorForUnknownProfiles(false);
            // Our canonical URLs live under example.org; the validator refuses those by default.
            fiv.setAllowExamples(true);
            fiv.setAnyExtensionsAllowed(true);
            // No "best practice" warnings (dom-6 narrative etc.): they never reject and only add noise.
            fiv.setBestPracticeWarningLevel(BestPracticeWarningLevel.Ignore);
        }
        this.validator = fhirContext.newValidator();
        this.validator.registerValidatorModule(instanceValidator);

        settings.requiredProfiles().forEach((type, url) ->
                ruleBuilder.forResourcesOfType(type).requireAtLeastProfile(url));
        this.requiredProfileRules = ruleBuilder.build().stream()
                .collect(Collectors.groupingBy(IRepositoryValidatingRule::getResourceType));
        if (!requiredProfileRules.isEmpty()) {
            LOG.info("Required profiles (FHIR_REQUIRED_PROFILES): {}", settings.requiredProfiles());
        }
    }

    @Hook(Pointcut.STORAGE_PRESTORAGE_RESOURCE_CREATED)
    public void resourceCreated(RequestDetails requestDetails, IBaseResource resource) {
        check(requestDetails, resource);
    }

    @Hook(Pointcut.STORAGE_PRESTORAGE_RESOURCE_UPDATED)
    public void resourceUpdated(RequestDetails requestDetails, IBaseResource oldResource, IBaseResource newResource) {
        check(requestDetails, newResource);
    }

    private void check(RequestDetails requestDetails, IBaseResource resource) {
        // Placeholders HAPI creates for unresolved references carry no content to validate.
        if (ExtensionUtil.hasExtension(resource, HapiExtensions.EXT_RESOURCE_PLACEHOLDER)) {
            return;
        }
        String type = fhirContext.getResourceType(resource);

        for (IRepositoryValidatingRule rule : requiredProfileRules.getOrDefault(type, List.of())) {
            IRepositoryValidatingRule.RuleEvaluation evaluation = rule.evaluate(requestDetails, resource);
            if (!evaluation.isPasses()) {
                IBaseOperationOutcome oo = evaluation.getOperationOutcome();
                if (oo == null) {
                    oo = OperationOutcomeUtil.newInstance(fhirContext);
                    OperationOutcomeUtil.addIssue(fhirContext, oo, "error",
                            evaluation.getFailureDescription(), type + ".meta.profile", "required");
                }
                throw new UnprocessableEntityException(fhirContext, oo);
            }
        }

        if (resource.getMeta().getProfile().isEmpty()) {
            return;
        }
        ValidationResult result = validator.validateWithResult(resource);
        boolean failed = result.getMessages().stream()
                .anyMatch(m -> m.getSeverity().ordinal() >= ResultSeverityEnum.ERROR.ordinal());
        if (failed) {
            List<SingleValidationMessage> messages = new ArrayList<>(result.getMessages());
            messages.sort(Comparator.comparing(
                    (SingleValidationMessage m) -> m.getSeverity().ordinal()).reversed());
            throw new UnprocessableEntityException(
                    fhirContext, new ValidationResult(fhirContext, messages).toOperationOutcome());
        }
    }
}
