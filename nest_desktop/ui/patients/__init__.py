"""The patient list, the patient's file and the segments of patients."""
